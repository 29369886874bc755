/**
 * What the page asks of the runtime, in one small interface: load, detect regions in a photo,
 * answer a question about regions with the pooled token's cross-modality attention, free.
 * RuntimeEngine implements it with LxmertVqa (the web-app API: the model in a Web Worker, its
 * shards in the persistent content-addressed cache) and, for photos, the Faster R-CNN
 * (GeneralizedRCNN) on the page's own tf.js backend: LxmertVqa does not load a detector yet.
 */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import vocabUrl from '../data/bert-base-uncased-vocab.txt?url';
import gqaUrl from '../data/gqa-answers.json?url';
import pretrainUrl from '../data/pretrain-answers.json?url';
import vqaUrl from '../data/vqa-answers.json?url';
import { LxmertVqa } from '../src/app/lxmert_vqa.js';
import type { LoadProgressEvent } from '../src/app/types.js';
import { selectBackend, type BackendPreference, type BackendSelection } from '../src/backend.js';
import { GeneralizedRCNN } from '../src/detector/generalized_rcnn.js';
import { LxmertError, WeightsError } from '../src/errors.js';
import { imageToRgba } from '../src/features/image.js';
import type { VisualInput } from '../src/features/validate.js';
import { loadConvertedDetector } from '../src/weights/detector_loader.js';
import type { ShownAnswer } from './answers.js';
import { cachedDetectorReader } from '../src/app/detector_cache.js';
import { openCacheStore } from '../src/app/cache.js';
import type { RegionAttention } from './attention.js';
import type { DemoRegion } from './regions.js';
import { vgNames } from './vg_names.js';

/** tfjs-backend-wasm's binaries and the package's data/ files, as Vite serves them. */
const WASM_PATHS = {
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
};
const DATA = {
  'bert-base-uncased-vocab.txt': vocabUrl,
  'vqa-answers.json': vqaUrl,
  'gqa-answers.json': gqaUrl,
  'pretrain-answers.json': pretrainUrl,
};

/** A photo's regions: the model's visual input and what the page draws. */
export interface DetectedImage {
  visual: VisualInput;
  regions: DemoRegion[];
  ms: number;
}

export interface AskOutcome {
  answers: ShownAnswer[];
  /** The whole answer call where the model runs (tokenize, forward, top-k), milliseconds. */
  ms: number;
  attention: RegionAttention | null;
}

export interface DemoEngine {
  /** The model's backend (webgpu, wasm, cpu) and why. */
  readonly backend: string;
  readonly backendReason: string;
  /** One line about the loaded models. */
  readonly summary: string;
  readonly hasDetector: boolean;
  /** Why the detector did not load (the VQA model did: precomputed features still work). */
  readonly detectorError: Error | null;
  /** Regions of a photo: its file bytes (decoded as Node decodes them) or a bitmap. */
  detect(image: Blob | ImageBitmap): Promise<DetectedImage>;
  answer(question: string, visual: VisualInput): Promise<AskOutcome>;
  dispose(): void;
}

export interface EngineOptions {
  model: string | readonly File[];
  /** A converted detector folder URL; null: precomputed features only. */
  detector: string | null;
  backend: BackendPreference;
  onProgress: (e: LoadProgressEvent) => void;
  onWarning: (message: string) => void;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

let pageBackend: Promise<BackendSelection> | null = null;

/** The page's own backend (for the detector): the one the model got, started once. */
function startPageBackend(pref: BackendPreference): Promise<BackendSelection> {
  pageBackend ??= selectBackend(pref, {
    wasmPaths: WASM_PATHS,
    log: (m) => console.info(`[lxmert] ${m}`),
  });
  return pageBackend;
}

async function loadDetector(url: string, pref: BackendPreference): Promise<GeneralizedRCNN> {
  const base = new URL(url.replace(/\/?$/, '/'), location.href);
  // The detector's files go through the runtime's own store (offline photos; "forget" covers
  // them); without a store it loads straight from the network.
  const store = await openCacheStore().catch(() => undefined);
  const readFile = store
    ? cachedDetectorReader(base, store, (m) => console.warn(`detector: ${m}`))
    : undefined;
  const d = await loadConvertedDetector(base, { readFile });
  await startPageBackend(pref);
  return GeneralizedRCNN.build(d.config, d.weights, { source: d.source });
}

export class RuntimeEngine implements DemoEngine {
  private constructor(
    private readonly vqa: LxmertVqa,
    private readonly detector: GeneralizedRCNN | null,
    readonly detectorError: Error | null,
  ) {}

  get hasDetector(): boolean {
    return this.detector !== null;
  }

  get backend(): string {
    const b = this.vqa.info.backend;
    return b.backend + (b.f16 ? ' (f16)' : '');
  }

  get backendReason(): string {
    const i = this.vqa.info;
    const threads = i.backend.threads ? `, ${i.backend.threads} threads` : '';
    return (
      `${i.backend.reason}${threads}; ${i.worker ? 'in a Web Worker' : 'on the page'}; ` +
      `${i.crossOriginIsolated ? '' : 'not '}cross-origin isolated`
    );
  }

  get summary(): string {
    const i = this.vqa.info;
    const cached = i.cachedBytes > 0 ? `, ${mb(i.cachedBytes)} from the cache` : '';
    const det = this.detector ? `; detector with ${this.detector.featureDim}-d regions` : '';
    return (
      `${i.architecture} (${i.dtype}, ${mb(i.bytes)}${cached}, hidden ${i.hiddenSize}, ` +
      `${i.numLabels} answers, in ${(i.loadMs / 1000).toFixed(2)} s)${det}`
    );
  }

  static async load(opts: EngineOptions): Promise<RuntimeEngine> {
    const vqa = await LxmertVqa.load({
      model: opts.model,
      backend: opts.backend,
      wasmPaths: WASM_PATHS,
      data: DATA,
      onProgress: opts.onProgress,
      onWarning: opts.onWarning,
    });
    let detector: GeneralizedRCNN | null = null;
    let detectorError: Error | null = null;
    try {
      if (opts.detector) detector = await loadDetector(opts.detector, opts.backend);
    } catch (e) {
      if (!(e instanceof LxmertError)) {
        vqa.dispose();
        throw e;
      }
      detectorError = e;
    }
    return new RuntimeEngine(vqa, detector, detectorError);
  }

  async detect(image: Blob | ImageBitmap): Promise<DetectedImage> {
    if (!this.detector) {
      throw (
        this.detectorError ??
        new WeightsError(
          'no detector loaded: give a detector URL, or ask about precomputed features',
          'detector',
        )
      );
    }
    const t0 = performance.now();
    const rgba = await imageToRgba(image, { argument: 'photo' });
    const d = await this.detector.detect(rgba);
    const names = await vgNames();
    const regions: DemoRegion[] = [];
    for (let i = 0; i < d.numDetections; i++) {
      const b = d.boxes.subarray(4 * i, 4 * i + 4);
      regions.push({
        box: [b[0], b[1], b[2], b[3]],
        objectId: d.objIds[i],
        object: names.objects[d.objIds[i]],
        attributeId: d.attrIds[i],
        attribute: names.attributes[d.attrIds[i]],
        score: d.objProbs[i],
      });
    }
    const slots = d.boxes.length / 4;
    return {
      visual: { features: d.roiFeatures, boxes: d.normalizedBoxes, numBoxes: slots },
      regions,
      ms: performance.now() - t0,
    };
  }

  async answer(question: string, visual: VisualInput): Promise<AskOutcome> {
    // transfer: false — the page keeps the regions for the next question
    const r = await this.vqa.answer(visual, question, {
      topK: 5,
      attention: true,
      transfer: false,
    });
    const a = r.crossAttention;
    return {
      answers: r.answers,
      ms: r.timings.totalMs,
      attention: a
        ? { layers: a.layers, heads: a.heads, regions: a.regions, data: a.values }
        : null,
    };
  }

  dispose(): void {
    this.vqa.dispose();
    this.detector?.dispose();
  }
}
