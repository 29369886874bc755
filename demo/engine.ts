/**
 * What the page asks of the runtime, in one small interface: load, detect regions in a photo,
 * answer a question about regions with the pooled token's cross-modality attention, free.
 * RuntimeEngine implements it with LxmertVqa (the web-app API): the model and the Faster R-CNN
 * detector both run in its Web Worker, their shards in the persistent content-addressed cache;
 * the page's main thread only passes messages (the photo's bytes go to the worker, regions and
 * answers come back).
 */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import vocabUrl from '../data/bert-base-uncased-vocab.txt?url';
import gqaUrl from '../data/gqa-answers.json?url';
import pretrainUrl from '../data/pretrain-answers.json?url';
import vqaUrl from '../data/vqa-answers.json?url';
import attributesUrl from '../data/vg-attributes.txt?url';
import objectsUrl from '../data/vg-objects.txt?url';
import { LxmertVqa } from '../src/app/lxmert_vqa.js';
import type { LoadProgressEvent, LxmertVqaLoadOptions } from '../src/app/types.js';
import type { BackendPreference } from '../src/backend.js';
import { LxmertError, WeightsError } from '../src/errors.js';
import type { VisualInput } from '../src/features/validate.js';
import type { ShownAnswer } from './answers.js';
import type { RegionAttention } from './attention.js';
import type { DemoRegion } from './regions.js';

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
  'vg-objects.txt': objectsUrl,
  'vg-attributes.txt': attributesUrl,
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

export class RuntimeEngine implements DemoEngine {
  private constructor(
    private readonly vqa: LxmertVqa,
    private readonly withDetector: boolean,
    readonly detectorError: Error | null,
  ) {}

  get hasDetector(): boolean {
    return this.withDetector;
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
    const det = this.withDetector ? '; with the detector' : '';
    return (
      `${i.architecture} (${i.dtype}, ${mb(i.bytes)}${cached}, hidden ${i.hiddenSize}, ` +
      `${i.numLabels} answers, in ${(i.loadMs / 1000).toFixed(2)} s)${det}`
    );
  }

  /**
   * The model with the detector, both in the worker. When the detector cannot load (missing
   * files), the model alone (its shards come from the cache then): precomputed features still
   * work, and the page says why photos do not.
   */
  static async load(opts: EngineOptions): Promise<RuntimeEngine> {
    const options: LxmertVqaLoadOptions = {
      model: opts.model,
      backend: opts.backend,
      wasmPaths: WASM_PATHS,
      data: DATA,
      onProgress: opts.onProgress,
      onWarning: opts.onWarning,
    };
    if (!opts.detector) return new RuntimeEngine(await LxmertVqa.load(options), false, null);
    try {
      const vqa = await LxmertVqa.load({ ...options, detector: opts.detector });
      return new RuntimeEngine(vqa, true, null);
    } catch (e) {
      if (!(e instanceof LxmertError)) throw e;
      // The model alone: when it fails too, its error is the one to show.
      const vqa = await LxmertVqa.load(options);
      return new RuntimeEngine(vqa, false, e);
    }
  }

  async detect(image: Blob | ImageBitmap): Promise<DetectedImage> {
    if (!this.withDetector) {
      throw (
        this.detectorError ??
        new WeightsError(
          'no detector loaded: give a detector URL, or ask about precomputed features',
          'detector',
        )
      );
    }
    const t0 = performance.now();
    // The worker decodes the photo and runs the detector; an ImageBitmap is transferred.
    const d = await this.vqa.detect(image);
    const regions: DemoRegion[] = [];
    for (let i = 0; i < d.numDetections; i++) {
      const b = d.boxes.subarray(4 * i, 4 * i + 4);
      regions.push({
        box: [b[0], b[1], b[2], b[3]],
        objectId: d.objectIds[i],
        object: d.labels?.[i] ?? `object ${d.objectIds[i]}`,
        attributeId: d.attributeIds[i],
        attribute: d.attributeLabels?.[i] ?? `attribute ${d.attributeIds[i]}`,
        score: d.objectProbs[i],
      });
    }
    return {
      visual: { features: d.features, boxes: d.normalizedBoxes, numBoxes: d.numBoxes },
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
  }
}
