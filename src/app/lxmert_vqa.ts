/**
 * LxmertVqa: the one API for web apps and Node. `load()` starts a backend, streams the model
 * with byte-accurate progress through a persistent cache and builds it, in a dedicated Web
 * Worker by default in browsers (the page's main thread only passes messages) or in place
 * (`worker: false`, and always in Node). `answer()` takes region features (or, once a detector
 * is loaded, an image) and a question.
 */
import { InputError, LxmertError } from '../errors.js';
import { isNode } from '../../kernels/runtime/node_gpu.js';
import { imageToRgba } from '../features/image.js';
import type { VisualInput } from '../features/validate.js';
import type { VqaPipeline } from '../pipeline/vqa.js';
import { requestPersistence } from './cache.js';
import { VqaEngine } from './engine.js';
import { checkAnswerArgs, isImageInput } from './inputs.js';
import { transferablesOf, type WorkerImage, type WorkerLoadOptions } from './messages.js';
import type {
  AnswerOptions,
  AnswerResult,
  DetectedRegions,
  ImageInput,
  LoadInfo,
  LxmertVqaLoadOptions,
  ModelFiles,
  RgbaImage,
  VqaInput,
} from './types.js';
import { WorkerClient } from './worker_client.js';

const NO_DETECTOR =
  'region features: an obj36 record, or {features, boxes, numBoxes[, imageSize]} (load a ' +
  'detector to pass images: LxmertVqa.load({ model, detector }))';

/**
 * An image as it travels to the worker: file bytes and Blobs as they are, drawn sources
 * (ImageBitmap) decoded here, pixels moved (`transfer`) or copied.
 */
async function workerImage(
  image: ImageInput,
  transfer: boolean,
): Promise<{ image: WorkerImage; transfer: ArrayBuffer[] }> {
  if (typeof Blob !== 'undefined' && image instanceof Blob) return { image, transfer: [] };
  if (image instanceof Uint8Array) {
    const bytes = transfer ? image : image.slice();
    return { image: bytes, transfer: bytes.buffer instanceof ArrayBuffer ? [bytes.buffer] : [] };
  }
  const drawn = typeof ImageBitmap !== 'undefined' && image instanceof ImageBitmap;
  const rgba = drawn ? await imageToRgba(image, { argument: 'image' }) : (image as RgbaImage);
  const data = transfer || drawn ? rgba.data : rgba.data.slice();
  const out: RgbaImage = { width: rgba.width, height: rgba.height, data };
  return { image: out, transfer: data.buffer instanceof ArrayBuffer ? [data.buffer] : [] };
}

function abortError(message: string): DOMException {
  return new DOMException(message, 'AbortError');
}

export class LxmertVqa {
  /** Resolves once the model is ready (rejects as load() does). */
  readonly ready: Promise<LxmertVqa>;
  private readonly options: LxmertVqaLoadOptions;
  private readonly inWorker: boolean;
  private readonly client: WorkerClient | null;
  private engine: VqaEngine | null = null;
  private readonly abort = new AbortController();
  private loadInfo: LoadInfo | null = null;
  private disposed = false;

  /** Load a model; the same as `LxmertVqa.start(options).ready`. */
  static load(options: LxmertVqaLoadOptions): Promise<LxmertVqa> {
    return LxmertVqa.start(options).ready;
  }

  /** Start loading and return at once: `dispose()` meanwhile aborts the load and frees it all. */
  static start(options: LxmertVqaLoadOptions): LxmertVqa {
    return new LxmertVqa(options);
  }

  private constructor(options: LxmertVqaLoadOptions) {
    if (typeof options !== 'object' || options === null || options.model === undefined) {
      throw new InputError('options.model', "a converted model's URL, files or folder", 'nothing');
    }
    this.options = options;
    const pageOnly =
      typeof options.cache === 'object' ||
      (typeof options.model === 'object' &&
        !(options.model instanceof URL) &&
        !Array.isArray(options.model));
    const canWork = typeof Worker !== 'undefined' && !isNode();
    const wanted = options.worker ?? (canWork && !pageOnly);
    if (wanted && !canWork) {
      throw new InputError(
        'options.worker',
        'false here (no Web Worker in this environment)',
        'true',
      );
    }
    if (wanted && pageOnly) {
      throw new InputError(
        'options.worker',
        'false with a ModelFiles reader or a custom cache store (functions cannot reach a worker)',
        'true',
      );
    }
    this.inWorker = wanted;
    this.client = wanted ? new WorkerClient() : null;
    const signal = this.callSignal(options.signal);
    if (options.cache !== false && !isNode()) void requestPersistence();
    this.ready = this.startLoad(signal).then(() => this);
    this.ready.catch(() => undefined); // reported to whoever awaits it
  }

  private async startLoad(signal: AbortSignal): Promise<void> {
    if (this.client) {
      this.loadInfo = await this.client.call<LoadInfo>(
        { type: 'load', options: this.workerOptions() },
        { onProgress: this.options.onProgress, onWarning: this.options.onWarning, signal },
      );
      if (this.disposed) throw abortError('The model was disposed');
      return;
    }
    const { onProgress, onWarning } = this.options;
    const engine = await VqaEngine.load(this.options, { onProgress, onWarning, signal });
    if (this.disposed || signal.aborted) {
      engine.dispose();
      throw signal.reason ?? abortError('The model was disposed');
    }
    this.engine = engine;
    this.loadInfo = engine.info;
  }

  private workerOptions(): WorkerLoadOptions {
    const o = this.options;
    const model = o.model instanceof URL ? o.model.href : (o.model as string | File[]);
    // Relative URLs are resolved against the page, not the worker's script.
    const href = typeof model === 'string' ? new URL(model, globalThis.location?.href).href : model;
    const out: WorkerLoadOptions = { model: href };
    const keys = [
      'maxPixels',
      'regionCacheSize',
      'backend',
      'wasmPaths',
      'wasmThreads',
      'data',
      'labels',
      'timeoutMs',
      'concurrency',
      'fetchWorker',
      'warmUp',
    ] as const;
    for (const k of keys) if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
    if (typeof o.cache === 'boolean') out.cache = o.cache;
    if (typeof o.data === 'string') out.data = new URL(o.data, globalThis.location?.href).href;
    if (o.detector !== undefined) {
      // Relative URLs are resolved against the page, not the worker's script.
      out.detector = new URL(String(o.detector), globalThis.location?.href).href;
    }
    return out;
  }

  /** What was loaded, on which backend, how fast. */
  get info(): LoadInfo {
    if (!this.loadInfo) throw new LxmertError('the model is not loaded yet (await ready)');
    return this.loadInfo;
  }

  /** Re-create a crashed worker and load the model again (from the cache) before a call. */
  private async revive(): Promise<void> {
    if (!this.client?.crashed) return;
    this.options.onWarning?.(`${this.client.crashed.message}; starting a new one`);
    this.loadInfo = await this.client.call<LoadInfo>(
      { type: 'load', options: this.workerOptions() },
      { signal: this.abort.signal },
    );
  }

  /**
   * The in-place pipeline (`worker: false`, and always in Node): batches of questions, images
   * and regions, the region cache. Not available when the model runs in a worker.
   */
  get pipeline(): VqaPipeline {
    if (this.client) {
      throw new LxmertError('the model runs in a Web Worker: load with worker: false for it');
    }
    if (!this.engine) throw new LxmertError('the model is not loaded yet (await ready)');
    return this.engine.pipeline;
  }

  private get hasDetector(): boolean {
    return this.options.detector !== undefined;
  }

  private callSignal(signal?: AbortSignal): AbortSignal {
    return signal ? AbortSignal.any([signal, this.abort.signal]) : this.abort.signal;
  }

  /**
   * Answer a question about an image's regions, or about an image (with `detector` at load:
   * it runs once per distinct image, and `regions.labels` names what it found).
   */
  async answer(
    input: VqaInput,
    question: string,
    options: AnswerOptions = {},
  ): Promise<AnswerResult> {
    if (this.disposed) throw new LxmertError('this LxmertVqa was disposed');
    const args = checkAnswerArgs(input, question);
    if ('image' in args && !this.hasDetector) {
      throw new InputError('input', NO_DETECTOR, 'an image, and no detector is loaded');
    }
    await this.ready;
    const topK = options.topK;
    if (topK !== undefined && (!Number.isSafeInteger(topK) || topK <= 0)) {
      throw new InputError('topK', 'a positive integer', String(topK));
    }
    const signal = this.callSignal(options.signal);
    const opts = { topK, attention: options.attention === true };
    const given = 'image' in args ? args.image : args.visual;
    if (!this.client) return this.engine!.answer(given, question, { ...opts, signal });
    await this.revive();
    let sent: VisualInput | WorkerImage;
    let transfer: ArrayBuffer[];
    if ('image' in args) {
      ({ image: sent, transfer } = await workerImage(args.image, options.transfer !== false));
    } else {
      sent = options.transfer === false ? args.visual : { ...args.visual }; // the arrays themselves move; the caller's object keeps its keys
      transfer = options.transfer === false ? [] : transferablesOf(sent);
    }
    return this.client.call<AnswerResult>(
      { type: 'answer', input: sent, question, options: opts },
      { signal, transfer },
    );
  }

  /**
   * The regions the detector finds in an image (needs `detector` at load): pixel and
   * normalized boxes, object and attribute ids with probabilities and Visual Genome names,
   * the region features. Cached per image, as answer() does.
   */
  async detect(
    image: ImageInput,
    options: { signal?: AbortSignal; transfer?: boolean } = {},
  ): Promise<DetectedRegions> {
    if (this.disposed) throw new LxmertError('this LxmertVqa was disposed');
    if (!isImageInput(image)) {
      throw new InputError(
        'image',
        'a Blob, ImageBitmap, ImageData, {width, height, data} or PNG/JPEG bytes',
        image === null ? 'null' : typeof image,
      );
    }
    if (!this.hasDetector) {
      throw new InputError('detector', 'a detector given to LxmertVqa.load', 'none loaded');
    }
    await this.ready;
    const signal = this.callSignal(options.signal);
    if (!this.client) return this.engine!.detect(image, signal);
    await this.revive();
    const sent = await workerImage(image, options.transfer !== false);
    return this.client.call<DetectedRegions>(
      { type: 'detect', image: sent.image },
      { signal, transfer: sent.transfer },
    );
  }

  /** Free the model (GPU buffers, wasm memory, the worker); aborts a load in progress. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.abort.abort(abortError('The model was disposed'));
    this.client?.terminate();
    this.engine?.dispose();
    this.engine = null;
  }
}

export type { ModelFiles };
