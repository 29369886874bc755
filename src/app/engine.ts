/**
 * The model where it runs (the worker, or the page with `worker: false`, or Node): start the
 * backend within a time limit, stream the weights through the cache, fall back on the built-in
 * answer list and vocabulary, build the model, answer. One engine per loaded model.
 */
import { selectBackend, type BackendSelection } from '../backend.js';
import { InputError, WeightsError } from '../errors.js';
import type { VisualInput } from '../features/validate.js';
import type { RawTensor } from '../codec/raw_tensor.js';
import { GeneralizedRCNN, type FrcnnConfig } from '../detector/index.js';
import type { ImageInput } from '../features/image.js';
import { buildModel } from '../model/index.js';
import { threadsReady, warmUp } from '../model/warm_up.js';
import {
  defaultLinearFormat,
  preparedWeightSource,
  type PreparedWeightSource,
} from '../model/weight_source.js';
import { tiedWeights } from '../model/weight_names.js';
import type { LoadedWeights, SelfLoadingFiles } from '../pipeline/model_files.js';
import { VqaPipeline, type ImageRegions } from '../pipeline/vqa.js';
import { openConvertedDetector } from '../weights/detector_loader.js';
import type { ProgressEvent } from '../weights/progress.js';
import { LxmertTokenizer } from '../tokenizer/tokenizer.js';
import { BUILTIN_LABELS, DEFAULT_VOCAB } from '../weights/builtin_data.js';
import { sleep } from '../weights/fetch_reader.js';
import {
  openConverted,
  subtleSha256,
  type LoadOptions,
  type ShardStore,
} from '../weights/loader.js';
import { gpuWeightFormat } from '../weights/manifest.js';
import { isNode } from '../../kernels/runtime/node_gpu.js';
import { openCacheStore } from './cache.js';
import { FetchPool, fetchWorkerAvailable } from './fetch_pool.js';
import { detectorFolderOrNull, folderOrNull } from './sources.js';
import { ProgressAccount } from './progress.js';
import type {
  AnswerOptions,
  AnswerResult,
  DetectedRegions,
  LoadInfo,
  LoadPhases,
  LoadProgressEvent,
  LxmertVqaLoadOptions,
  ModelFiles,
} from './types.js';

export type { LoadedWeights, SelfLoadingFiles };

/** load() options the engine needs (the cloneable part, plus what only the page can pass). */
export type EngineLoadOptions = Omit<LxmertVqaLoadOptions, 'onProgress' | 'onWarning' | 'signal'>;

export interface EngineHooks {
  onProgress?: (e: LoadProgressEvent) => void;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Reads the package's data/ files from where the page serves them. */
function dataReader(data: LxmertVqaLoadOptions['data']): (file: string) => Promise<string> {
  return async (file) => {
    if (data === undefined) {
      throw new InputError(
        'data',
        `where the package's data/ files are served (the model has no ${file} of its own)`,
        'undefined',
      );
    }
    const url =
      typeof data === 'string'
        ? new URL(file, new URL(data.replace(/\/?$/, '/'), globalThis.location?.href)).href
        : data[file];
    if (!url) throw new InputError(`data['${file}']`, 'a URL', 'undefined');
    const res = await fetch(url);
    if (!res.ok) throw new WeightsError(`HTTP ${res.status}`, url);
    return res.text();
  };
}

/** A FileReader over files a user picked, matched by file name. */
function pickedFiles(files: readonly File[]): ModelFiles {
  const byName = new Map(files.map((f) => [f.name, f]));
  return {
    name: 'picked files',
    readFile: async (path, onBytes, expected) => {
      const file = byName.get(path.split('/').pop() ?? path);
      if (!file) {
        throw new WeightsError(
          `missing: pick it too (picked: ${[...byName.keys()].join(', ') || 'nothing'})`,
          path,
        );
      }
      if (expected !== undefined && file.size !== expected) {
        throw new WeightsError(`${file.size} bytes, model.json says ${expected}`, path);
      }
      const bytes = new Uint8Array(await file.arrayBuffer());
      onBytes(bytes.byteLength);
      return bytes;
    },
  };
}

function isFileList(m: unknown): m is readonly File[] {
  return Array.isArray(m) && m.every((f) => typeof File !== 'undefined' && f instanceof File);
}

type DetectorWeights = { config: FrcnnConfig; weights: Map<string, RawTensor>; source: string };

/**
 * The detector's files, opened: a converted folder over fetch (its model.json read, so its
 * totals can be announced before any byte flows), or in Node a folder that loads itself.
 */
async function openDetector(
  detector: string | URL,
  options: LoadOptions,
): Promise<{ announce(): void; load(): Promise<DetectorWeights> }> {
  if (typeof detector !== 'string' && !(detector instanceof URL)) {
    throw new InputError(
      'detector',
      "a converted detector's URL (or, in Node, a folder)",
      detector === null ? 'null' : typeof detector,
    );
  }
  const href = detector instanceof URL ? detector.href : detector;
  const folder = detectorFolderOrNull(href, isNode());
  if (folder) {
    return {
      announce: () => undefined,
      load: () => folder(href, { onProgress: options.onProgress, signal: options.signal }),
    };
  }
  return openConvertedDetector(new URL(href, globalThis.location?.href).href, options);
}

/** Visual Genome names by id (data/vg-*.txt, line i = id i; the first of a line's synonyms). */
export interface VgNames {
  objects: string[];
  attributes: string[];
}

async function readVgNames(readData: (file: string) => Promise<string>): Promise<VgNames> {
  const lines = (text: string) => text.split('\n').map((l) => l.split(',')[0].trim());
  const [objects, attributes] = await Promise.all([
    readData('vg-objects.txt'),
    readData('vg-attributes.txt'),
  ]);
  return { objects: lines(objects), attributes: lines(attributes) };
}

/** One image's detections as detect() returns them (fresh arrays: the cache keeps its own). */
function detectedRegions(r: ImageRegions, names: VgNames | null): DetectedRegions {
  const d = r.detections;
  const out: DetectedRegions = {
    imageSize: { width: d.rawSize[1], height: d.rawSize[0] },
    numBoxes: r.visual.numBoxes,
    numDetections: d.numDetections,
    boxes: d.boxes.slice(),
    normalizedBoxes: d.normalizedBoxes.slice(),
    features: d.roiFeatures.slice(),
    featureDim: d.featureDim,
    objectIds: d.objIds.slice(),
    objectProbs: d.objProbs.slice(),
    attributeIds: d.attrIds.slice(),
    attributeProbs: d.attrProbs.slice(),
  };
  if (names) {
    out.labels = Array.from(d.objIds, (id) => names.objects[id] ?? `object ${id}`);
    out.attributeLabels = Array.from(d.attrIds, (id) => names.attributes[id] ?? `attribute ${id}`);
  }
  return out;
}

/** The warm-up's question (padded to the pipeline's 20 tokens like any other). */
const WARM_UP_QUESTION = 'what is in the picture?';

/** 36 placeholder regions (zero features, whole-image boxes) of `featureDim` values each. */
function placeholderRegions(featureDim: number): VisualInput {
  const numBoxes = 36;
  const boxes = new Float32Array(numBoxes * 4);
  for (let i = 0; i < numBoxes; i++) boxes.set([0, 0, 1, 1], i * 4);
  return { features: new Float32Array(numBoxes * featureDim), boxes, numBoxes };
}

function isRegions(x: VisualInput | ImageInput): x is VisualInput {
  return typeof x === 'object' && x !== null && 'features' in x && 'numBoxes' in x;
}

export class VqaEngine {
  private constructor(
    readonly pipeline: VqaPipeline,
    readonly info: LoadInfo,
    private readonly vgNames: VgNames | null,
  ) {}

  /**
   * Start the backend, load and build; aborting frees whatever was made. The backend starts
   * while the files download; every file (model's and detector's) is announced before any byte
   * flows; each weight is made ready for the backend's layers as it arrives (see
   * preparedWeightSource); after the last byte: build, then the warm-up (one forward on
   * placeholder inputs, so the first answer costs what the next ones do).
   */
  static async load(options: EngineLoadOptions, hooks: EngineHooks = {}): Promise<VqaEngine> {
    const t0 = performance.now();
    const since = () => Math.round(performance.now() - t0);
    hooks.signal?.throwIfAborted();
    // A failure of one half (backend, model, detector) stops the others' fetches.
    const stop = new AbortController();
    const signal = hooks.signal ? AbortSignal.any([hooks.signal, stop.signal]) : stop.signal;
    const warn = hooks.onWarning ?? ((m: string) => console.warn(`[lxmert] ${m}`));
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const phases: LoadPhases = {
      backendAt: 0,
      filesAnnouncedAt: 0,
      lastByteAt: 0,
      builtAt: 0,
      readyAt: 0,
      hashMs: 0,
      warmUpMs: 0,
    };
    const backendStart = selectBackend(options.backend ?? 'auto', {
      wasmPaths: options.wasmPaths,
      wasmThreads: options.wasmThreads,
      startTimeoutMs: timeoutMs,
      // Node: stderr (stdout is the program's output).
      log: (m) => (isNode() ? console.error : console.info)(`[lxmert] ${m}`),
    }).then((b) => {
      phases.backendAt = since();
      return b;
    });
    backendStart.catch(() => undefined); // awaited below with the loads

    const account = new ProgressAccount((e) => hooks.onProgress?.(e));
    const model = options.model;
    let files: ModelFiles | undefined;
    if (typeof model === 'string') files = folderOrNull(model, isNode()) ?? undefined;
    if (isFileList(model)) files = pickedFiles(model);
    else if (typeof model === 'object' && model !== null && !(model instanceof URL)) {
      if (typeof (model as ModelFiles).readFile !== 'function') {
        throw new InputError(
          'model',
          'a URL, picked files, or {name, readFile}',
          `an object with keys ${Object.keys(model).join(', ')}`,
        );
      }
      files = model as ModelFiles;
    } else if (typeof model !== 'string' && !(model instanceof URL)) {
      throw new InputError('model', "a converted model's URL", String(model));
    }

    // One store for the model's and the detector's shards (a folder model reads no store).
    let store: ShardStore | undefined;
    if ((!files || options.detector !== undefined) && options.cache !== false) {
      if (typeof options.cache === 'object') store = options.cache;
      else {
        store = await openCacheStore().catch((e: unknown) => {
          warn(`Cache Storage unavailable (${(e as Error)?.message ?? e}); not caching`);
          return undefined;
        });
      }
    }
    const timed = (hash: (bytes: Uint8Array) => Promise<string>) => async (bytes: Uint8Array) => {
      const t = performance.now();
      try {
        return await hash(bytes);
      } finally {
        phases.hashMs += performance.now() - t;
      }
    };
    const retry = { stallTimeoutMs: timeoutMs };
    // Browsers: URLs are fetched and hashed in a worker of their own (see fetch_pool.ts).
    const pool =
      options.fetchWorker !== false &&
      (!files || options.detector !== undefined) &&
      fetchWorkerAvailable()
        ? new FetchPool({
            retry,
            onWarning: warn,
            // Two readers even on two cores: receiving is most of a load's CPU (measured in
            // BENCHMARKS.md, issue 10), and one thread alone takes longer than the network.
            threads: Math.min(2, globalThis.navigator?.hardwareConcurrency || 1),
          })
        : null;
    const common: LoadOptions = {
      onWarning: warn,
      signal,
      concurrency: options.concurrency,
      retry,
      ...(pool ? { reader: (base: URL) => pool.reader(base) } : {}),
    };
    const urlSha256 = timed(pool?.sha256 ?? subtleSha256);

    // Device weights are made ahead once the backend runs (the storage of Linear weights
    // depends on it); weights that arrive before that wait for it.
    const ahead: { source: PreparedWeightSource | null } = { source: null };
    const early: [string, RawTensor][] = [];
    const onWeight = (name: string, raw: RawTensor) => {
      if (signal.aborted) return;
      if (ahead.source) ahead.source.add(name, raw);
      else early.push([name, raw]);
    };
    const selfLoading =
      files && 'load' in files && typeof (files as SelfLoadingFiles).load === 'function'
        ? (files as SelfLoadingFiles)
        : undefined;
    const modelFile = (e: ProgressEvent) => account.add(e);
    const detectorFile = (e: ProgressEvent) => account.add({ ...e, file: `detector/${e.file}` });
    const [opened, detectorOpened] = await Promise.all([
      selfLoading
        ? null
        : openConverted(
            files?.name ??
              (model instanceof URL
                ? model.href
                : new URL(model as string, globalThis.location?.href).href),
            {
              ...common,
              onProgress: modelFile,
              onWeight,
              store: files ? undefined : store,
              ...(files
                ? { readFile: files.readFile, sha256: timed(files.sha256 ?? subtleSha256) }
                : { sha256: urlSha256 }),
            },
          ),
      options.detector === undefined
        ? null
        : openDetector(options.detector, {
            ...common,
            onProgress: detectorFile,
            store,
            sha256: urlSha256,
          }),
    ]).catch((e: unknown) => {
      stop.abort(e);
      pool?.dispose();
      throw e;
    });
    opened?.announce();
    detectorOpened?.announce();
    phases.filesAnnouncedAt = since();
    const readData = files?.readData ?? dataReader(options.data);
    const names = detectorOpened
      ? readVgNames(readData).catch((e: unknown) => {
          warn(`no Visual Genome names for the regions (${(e as Error)?.message ?? e})`);
          return null;
        })
      : Promise.resolve(null);
    const backendReady = backendStart.then((b) => {
      if (!opened || signal.aborted) return b;
      const prepared = preparedWeightSource(
        opened.source,
        defaultLinearFormat(gpuWeightFormat(opened.manifest)),
        tiedWeights(opened.config),
      );
      ahead.source = prepared;
      for (const [name, raw] of early) prepared.add(name, raw);
      early.length = 0;
      return b;
    });
    const [backend, loaded, detectorWeights]: [
      BackendSelection,
      LoadedWeights,
      DetectorWeights | undefined,
    ] = await Promise.all([
      backendReady,
      selfLoading ? selfLoading.load({ onProgress: modelFile, signal }) : opened!.load(),
      detectorOpened?.load(),
    ])
      .catch((e: unknown) => {
        stop.abort(e);
        ahead.source?.release(); // what was made ahead
        throw e;
      })
      .finally(() => pool?.dispose());
    phases.lastByteAt = since();
    try {
      return await VqaEngine.finish(options, loaded, detectorWeights, backend, ahead.source, {
        signal,
        warn,
        readData,
        names,
        account,
        phases,
        since,
        t0,
      });
    } finally {
      ahead.source?.release(); // what buildModel did not take
    }
  }

  /** After the last byte: labels and vocabulary, the builds, the warm-up, the info. */
  private static async finish(
    options: EngineLoadOptions,
    loaded: LoadedWeights,
    detectorWeights: DetectorWeights | undefined,
    backend: BackendSelection,
    prepared: PreparedWeightSource | null,
    ctx: {
      signal: AbortSignal;
      warn: (m: string) => void;
      readData: (file: string) => Promise<string>;
      names: Promise<VgNames | null>;
      account: ProgressAccount;
      phases: LoadPhases;
      since: () => number;
      t0: number;
    },
  ): Promise<VqaEngine> {
    const { signal, readData, account, phases, since, t0 } = ctx;
    signal.throwIfAborted();

    const cfg = loaded.config;
    if (loaded.architecture === 'LxmertModel') {
      throw new WeightsError(
        'an LxmertModel has no answer head; VQA needs LxmertForQuestionAnswering ' +
          'or LxmertForPreTraining with task_qa',
        loaded.source,
      );
    }
    let labels: readonly string[] | undefined = options.labels;
    let labelsFrom = 'options.labels';
    if (!labels && loaded.labels) {
      labels = loaded.labels;
      labelsFrom = loaded.manifest ? 'the model (labels.json)' : (loaded.labelsFrom ?? 'the model');
    }
    if (!labels) {
      const builtin = BUILTIN_LABELS[cfg.numQaLabels];
      if (!builtin) {
        throw new WeightsError(
          `no answer labels: no labels.json, and no built-in answer list has num_qa_labels = ` +
            `${cfg.numQaLabels} entries (convert with --labels, or pass options.labels)`,
          loaded.source,
        );
      }
      labels = JSON.parse(await readData(builtin)) as string[];
      labelsFrom = `built-in ${builtin}`;
    }
    let vocab = loaded.vocab;
    let vocabFrom = 'the model (vocab.txt)';
    if (vocab === undefined) {
      vocab = await readData(DEFAULT_VOCAB);
      vocabFrom = `built-in ${DEFAULT_VOCAB}`;
    }
    const vgNames = await ctx.names;
    signal.throwIfAborted();
    const detector = detectorWeights
      ? GeneralizedRCNN.build(detectorWeights.config, detectorWeights.weights, {
          source: detectorWeights.source,
        })
      : undefined;
    let net: ReturnType<typeof buildModel>;
    try {
      net = prepared
        ? buildModel(cfg, prepared, { architecture: loaded.architecture, source: loaded.source })
        : buildModel(cfg, loaded.weights, {
            architecture: loaded.architecture,
            source: loaded.source,
            weightFormat: gpuWeightFormat(loaded.manifest),
          });
    } catch (e) {
      detector?.dispose();
      throw e;
    }
    phases.builtAt = since();
    let pipeline: VqaPipeline;
    try {
      if (!('answerScores' in net)) throw new WeightsError('no answer head', loaded.source);
      const tokenizer = LxmertTokenizer.fromVocabText(vocab);
      pipeline = new VqaPipeline({
        model: net,
        tokenizer,
        labels,
        detector,
        regionCacheSize: options.regionCacheSize,
        maxPixels: options.maxPixels,
      });
      if (options.warmUp !== false) {
        const t = performance.now();
        if (backend.backend === 'webgpu') {
          await warmUp(net); // every shader compiled ahead, in parallel: 20 tokens, 36 regions
        } else {
          // One whole answer on placeholder regions: besides the forward, the JS a first
          // question runs (tokenizer, top-k), which a bare forward left to the first answer.
          await threadsReady();
          await pipeline.answer(WARM_UP_QUESTION, placeholderRegions(cfg.visualFeatDim));
        }
        phases.warmUpMs = Math.round(performance.now() - t);
      }
    } catch (e) {
      net.dispose();
      detector?.dispose();
      throw e;
    }
    if (signal.aborted) {
      pipeline.dispose();
      signal.throwIfAborted();
    }
    account.ready(loaded.manifest ? 'model.json' : loaded.source);
    phases.readyAt = since();
    phases.hashMs = Math.round(phases.hashMs);
    const info: LoadInfo = {
      backend,
      architecture: loaded.architecture,
      dtype: loaded.manifest?.dtype ?? 'float32',
      source: loaded.source,
      bytes: account.bytes,
      cachedBytes: account.cachedBytes,
      numLabels: cfg.numQaLabels,
      hiddenSize: cfg.hiddenSize,
      labelsFrom,
      vocabFrom,
      loadMs: performance.now() - t0,
      phases,
      worker:
        typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined',
      crossOriginIsolated:
        (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    };
    if (detectorWeights) info.detector = detectorWeights.source;
    return new VqaEngine(pipeline, info, vgNames);
  }

  /** The regions the detector finds in an image (detected once per image, then cached). */
  async detect(image: ImageInput, signal?: AbortSignal): Promise<DetectedRegions> {
    signal?.throwIfAborted();
    const r = await this.pipeline.detect(image);
    signal?.throwIfAborted();
    return detectedRegions(r, this.vgNames);
  }

  /** Answer one question about one image's regions, or about an image (with a detector). */
  async answer(
    input: VisualInput | ImageInput,
    question: string,
    options: Omit<AnswerOptions, 'signal'> & { signal?: AbortSignal } = {},
  ): Promise<AnswerResult> {
    const t0 = performance.now();
    options.signal?.throwIfAborted();
    // Let a cancel message that is already queued arrive before the forward starts.
    await sleep(0, options.signal);
    let visual: VisualInput;
    let labels: string[] | undefined;
    if (isRegions(input)) visual = input;
    else {
      const r = await this.pipeline.detect(input, 'input');
      // Copies: the result may be transferred, and the cache keeps the originals.
      visual = {
        features: r.visual.features.slice(),
        boxes: r.visual.boxes.slice(),
        numBoxes: r.visual.numBoxes,
      };
      if (r.visual.attentionMask) visual.attentionMask = r.visual.attentionMask.slice();
      const names = this.vgNames;
      if (names)
        labels = Array.from(r.detections.objIds, (id) => names.objects[id] ?? `object ${id}`);
      options.signal?.throwIfAborted();
    }
    const t1 = performance.now();
    const r = await this.pipeline.answer(question, visual, {
      topK: options.topK,
      attention: options.attention,
    });
    const t2 = performance.now();
    options.signal?.throwIfAborted();
    const out: AnswerResult = {
      question: r.question,
      answers: r.answers,
      regions: { numBoxes: visual.numBoxes, boxes: visual.boxes, features: visual.features },
      timings: { totalMs: t2 - t0, forwardMs: t2 - t1 },
    };
    if (visual.attentionMask && !isRegions(input)) out.regions.attentionMask = visual.attentionMask;
    if (labels) out.regions.labels = labels;
    if (r.crossAttention) out.crossAttention = r.crossAttention;
    return out;
  }

  dispose(): void {
    this.pipeline.dispose();
  }
}
