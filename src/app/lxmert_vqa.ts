/**
 * LxmertVqa: the one API for web apps and Node. `load()` starts a backend, streams the model
 * with byte-accurate progress through a persistent cache and builds it, in a dedicated Web
 * Worker by default in browsers (the page's main thread only passes messages) or in place
 * (`worker: false`, and always in Node). `answer()` takes region features (or, once a detector
 * is loaded, an image) and a question.
 */
import { InputError, LxmertError } from '../errors.js';
import { isNode } from '../../kernels/runtime/node_gpu.js';
import type { VisualInput } from '../features/validate.js';
import { requestPersistence } from './cache.js';
import { VqaEngine } from './engine.js';
import { checkAnswerArgs } from './inputs.js';
import { transferablesOf, type WorkerLoadOptions } from './messages.js';
import type {
  AnswerOptions,
  AnswerResult,
  ImageInput,
  LoadInfo,
  LxmertVqaLoadOptions,
  ModelFiles,
  VqaInput,
} from './types.js';
import { WorkerClient } from './worker_client.js';

const DETECTOR_PENDING =
  'images need the Faster R-CNN detector, which this version cannot load yet; pass region ' +
  'features (an obj36 record, or {features, boxes, numBoxes[, imageSize]})';

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
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.abort.signal])
      : this.abort.signal;
    if (options.cache !== false && !isNode()) void requestPersistence();
    this.ready = this.startLoad(signal).then(() => this);
    this.ready.catch(() => undefined); // reported to whoever awaits it
  }

  private async startLoad(signal: AbortSignal): Promise<void> {
    if (this.options.detector !== undefined) {
      this.options.onWarning?.(`options.detector is ignored: ${DETECTOR_PENDING}`);
    }
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
      'backend',
      'wasmPaths',
      'wasmThreads',
      'data',
      'labels',
      'timeoutMs',
      'concurrency',
    ] as const;
    for (const k of keys) if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
    if (typeof o.cache === 'boolean') out.cache = o.cache;
    if (typeof o.data === 'string') out.data = new URL(o.data, globalThis.location?.href).href;
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

  /** Answer a question about an image's regions (or an image, once a detector is loaded). */
  async answer(
    input: VqaInput,
    question: string,
    options: AnswerOptions = {},
  ): Promise<AnswerResult> {
    if (this.disposed) throw new LxmertError('this LxmertVqa was disposed');
    const args = checkAnswerArgs(input, question);
    if ('image' in args) throw new InputError('input', DETECTOR_PENDING, 'an image');
    await this.ready;
    const topK = options.topK;
    if (topK !== undefined && (!Number.isSafeInteger(topK) || topK <= 0)) {
      throw new InputError('topK', 'a positive integer', String(topK));
    }
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.abort.signal])
      : this.abort.signal;
    const opts = { topK, attention: options.attention === true };
    if (!this.client) return this.engine!.answer(args.visual, question, { ...opts, signal });
    await this.revive();
    const visual: VisualInput = options.transfer === false ? args.visual : { ...args.visual }; // the arrays themselves move; the caller's object keeps its keys
    return this.client.call<AnswerResult>(
      { type: 'answer', input: visual, question, options: opts },
      { signal, transfer: options.transfer === false ? [] : transferablesOf(visual) },
    );
  }

  /** Detect the regions of an image (needs `detector` at load). */
  async detect(image: ImageInput): Promise<never> {
    void image;
    throw new InputError('detector', DETECTOR_PENDING, 'no detector loaded');
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
