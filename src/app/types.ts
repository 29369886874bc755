/**
 * Public types of the web-app API (LxmertVqa): what load() and answer() take and give. Every
 * type that crosses the worker boundary is structured-cloneable (no functions, no classes).
 */
import type { BackendPreference, BackendSelection } from '../backend.js';
import type { Obj36Image } from '../features/obj36.js';
import type { VisualInput } from '../features/validate.js';
import type { CrossAttention, VqaAnswer } from '../pipeline/vqa.js';
import type { ModelFiles } from '../pipeline/model_files.js';
import type { ShardStore } from '../weights/loader.js';
import type { ProgressEvent } from '../weights/progress.js';

export type { CrossAttention, VqaAnswer, VisualInput, Obj36Image };

export type { ModelFiles };

/**
 * Where a model comes from: the URL of its folder (or of its model.json), the files a user
 * picked (matched by name), or a ModelFiles reader.
 */
export type ModelSource = string | URL | readonly File[] | ModelFiles;

/** Progress of the whole load: each file's event plus the bytes over all files. */
export type LoadProgressEvent = ProgressEvent & {
  /** Bytes of every file announced so far (shards, vocab, labels), done or cached ones included. */
  loadedBytes: number;
  totalBytes: number;
  /** loadedBytes / totalBytes, 1 at `ready`. */
  fraction: number;
};

export interface LxmertVqaLoadOptions {
  model: ModelSource;
  /**
   * A GeneralizedRCNN detector (`lxmert convert` of unc-nlp/frcnn-vg-finetuned) so that
   * answer() and detect() take images: the URL of its converted folder (or model.json), or in
   * Node a folder (converted, or the Hugging Face one with config.yaml).
   */
  detector?: string | URL;
  /** Refuse images over this many pixels (default 50 000 000), before decoding. */
  maxPixels?: number;
  /** Images whose detections are kept (default 8): more questions about one run it once. */
  regionCacheSize?: number;
  /** Default 'auto' (webgpu → wasm → cpu). */
  backend?: BackendPreference;
  /** Run the model in a dedicated Web Worker: default true in browsers, false in Node. */
  worker?: boolean;
  /**
   * Keep verified shards (content-addressed by sha256) and model.json (by URL) in Cache
   * Storage: default true where `caches` exists. A ShardStore replaces it (page only).
   */
  cache?: boolean | ShardStore;
  onProgress?: (event: LoadProgressEvent) => void;
  /** Non-fatal problems (cache unavailable or full, a stale manifest used offline). */
  onWarning?: (message: string) => void;
  /** Aborts the load (fetches stop, everything made so far is freed). */
  signal?: AbortSignal;
  /** Where tfjs-backend-wasm's .wasm files are served: a folder URL or a file → URL map. */
  wasmPaths?: string | Record<string, string>;
  /** XNNPACK threads of the threaded wasm build (default: logical cores). */
  wasmThreads?: number;
  /**
   * Where the package's data/ files are served (answer lists, BERT vocabulary), for models
   * converted without labels.json or vocab.txt: a folder URL or a file → URL map.
   */
  data?: string | Record<string, string>;
  /** Answer strings by label id (default: the model's labels.json, else a built-in list). */
  labels?: readonly string[];
  /** A backend start or a load that has not finished by then fails (default 30 s each). */
  timeoutMs?: number;
  /** Shards fetched at once (default 4). */
  concurrency?: number;
  /**
   * Browsers: fetch and sha256-check the files in a worker of their own (default true), so
   * that the thread building the model only turns verified bytes into weights (receiving a
   * body costs a browser's reading thread much CPU). false: read them in the model's thread.
   */
  fetchWorker?: boolean;
  /**
   * One forward on placeholder inputs before `ready` (default true), so that the first answer
   * costs what the following ones do (wasm: XNNPACK packs its weights; webgpu: shaders compile).
   */
  warmUp?: boolean;
}

/**
 * Region features of one image: an obj36 record (boxes in pixels of imgW × imgH), features +
 * pixel boxes + the image size, or features + boxes normalized to [0, 1] (VisualInput).
 */
export type RegionInput =
  | Obj36Image
  | VisualInput
  | {
      features: Float32Array;
      /** [numBoxes * 4] x1, y1, x2, y2 in pixels. */
      boxes: Float32Array;
      numBoxes: number;
      imageSize: { width: number; height: number };
    };

/** Decoded pixels (what src/features/image.ts makes of a Blob, ImageBitmap or canvas). */
export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, RGBA. */
  data: Uint8Array | Uint8ClampedArray;
}

/** An image for the detector (needs `detector` at load); Uint8Array: PNG or JPEG file bytes. */
export type ImageInput = Blob | ImageBitmap | ImageData | RgbaImage | Uint8Array;

/** detect()'s answer: the detector's regions of one image (padding rows included). */
export interface DetectedRegions {
  /** The image's size in pixels. */
  imageSize: { width: number; height: number };
  /** Rows (36 by default); the first numDetections are real, the rest zero padding. */
  numBoxes: number;
  numDetections: number;
  /** [numBoxes * 4] x1, y1, x2, y2 in the image's pixels. */
  boxes: Float32Array;
  /** [numBoxes * 4] in [0, 1]: the model's visual_pos. */
  normalizedBoxes: Float32Array;
  /** [numBoxes * featureDim]: the model's visual_feats. */
  features: Float32Array;
  featureDim: number;
  objectIds: Int32Array;
  objectProbs: Float32Array;
  attributeIds: Int32Array;
  attributeProbs: Float32Array;
  /** Visual Genome object and attribute names by row (when data/vg-*.txt could be read). */
  labels?: string[];
  attributeLabels?: string[];
}

export type VqaInput = RegionInput | ImageInput;

export interface AnswerOptions {
  /** Answers, best first (default 5). */
  topK?: number;
  /** Return the pooled token's cross-modality attention over the regions. */
  attention?: boolean;
  /** Aborts the call (it rejects with the signal's reason). */
  signal?: AbortSignal;
  /**
   * With a worker: move the input's buffers to it instead of copying them (default true). They
   * come back in `result.regions` (the caller's arrays are detached meanwhile); pass false to
   * keep using the arrays given.
   */
  transfer?: boolean;
}

export interface AnswerResult {
  question: string;
  answers: VqaAnswer[];
  /**
   * The regions the model looked at: boxes normalized to [0, 1]; labels (Visual Genome object
   * names by row) when a detector made them.
   */
  regions: {
    numBoxes: number;
    boxes: Float32Array;
    features: Float32Array;
    labels?: string[];
    attentionMask?: Float32Array | Int32Array | Uint8Array;
  };
  /** Milliseconds: the whole call as measured where the model runs, and its forward pass. */
  timings: { totalMs: number; forwardMs: number };
  /** With `attention: true`: per cross layer and head, the pooled token's weights per region. */
  crossAttention?: CrossAttention;
}

/**
 * Milliseconds since load() began when each phase ended (the backend starts while the files
 * download, so backendAt may come before filesAnnouncedAt), and two totals.
 */
export interface LoadPhases {
  /** The backend runs. */
  backendAt: number;
  /** Every model.json read; all files announced (`initiate`) before any byte flows. */
  filesAnnouncedAt: number;
  /** The last byte is in, verified and its weight decoded (and the backend runs). */
  lastByteAt: number;
  /** buildModel and the detector's build are done. */
  builtAt: number;
  /** After the warm-up: `ready`. */
  readyAt: number;
  /**
   * sha256 in the loading thread, summed (it runs while the other files download): with the
   * fetch worker only cached files are hashed there.
   */
  hashMs: number;
  /** The warm-up forward (0 with `warmUp: false`). */
  warmUpMs: number;
}

/** What load() found and chose. */
export interface LoadInfo {
  backend: BackendSelection;
  architecture: string;
  dtype: string;
  source: string;
  /** Bytes of the shards, vocab and labels. */
  bytes: number;
  /** Of those, bytes that came from the cache. */
  cachedBytes: number;
  numLabels: number;
  hiddenSize: number;
  labelsFrom: string;
  vocabFrom: string;
  /** Where the detector came from, when one was loaded. */
  detector?: string;
  /** load() to ready, where the model runs. */
  loadMs: number;
  /** Where the time of the load went (see LoadPhases). */
  phases: LoadPhases;
  /** The model runs in a Web Worker. */
  worker: boolean;
  /** The page is cross-origin isolated (threads for wasm). */
  crossOriginIsolated: boolean;
}
