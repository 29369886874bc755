/**
 * Browser half of test/app/browser.test.ts: LxmertVqa in a page served by Vite (COOP/COEP), the
 * model on a 127.0.0.1 server the test controls. The test calls window.lxmertApp.* through
 * Playwright; each returns plain data (answers, progress events, errors by class and fields,
 * long tasks seen by a PerformanceObserver).
 */
/// <reference types="vite/client" />
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import {
  CACHE_NAME,
  LxmertVqa,
  cacheUsage,
  deleteCached,
  listCached,
  type LoadPhases,
  type LoadProgressEvent,
  type LxmertVqaLoadOptions,
} from '../../../src/app/index.js';
import { parseObj36Tsv, type Obj36Image } from '../../../src/features/obj36.js';

const abs = (u: string) => new URL(u, location.href).href;
const WASM_PATHS = {
  'tfjs-backend-wasm.wasm': abs(wasmPlain),
  'tfjs-backend-wasm-simd.wasm': abs(wasmSimd),
  'tfjs-backend-wasm-threaded-simd.wasm': abs(wasmThreaded),
};

export interface Question {
  question: string;
  imgId: string;
}

export interface ErrorReport {
  name: string;
  message: string;
  where?: string;
  argument?: string;
  isWeightsError?: boolean;
}

export interface LoadReport {
  ok: boolean;
  error?: ErrorReport;
  events: LoadProgressEvent[];
  warnings: string[];
  backend?: string;
  threads?: number;
  worker?: boolean;
  cachedBytes?: number;
  bytes?: number;
  answers?: { labels: number[]; scores: number[]; attentionSum?: number }[];
  longTasks: number[];
  ms: number;
  /** start() to ready, in the page. */
  readyMs?: number;
  /** LoadInfo.phases, where the model runs. */
  phases?: LoadPhases;
  /** With `synthetic`: each answer call's time in the page, first one first. */
  answerMs?: number[];
  /** With `image`: detect()'s regions, and answer(image)'s answers (image bytes transferred). */
  detected?: { objectIds: number[]; boxes: number[]; features: number[]; labels?: string[] };
  imageAnswers?: { labels: number[]; scores: number[] }[];
  /** The image's buffer was detached by the call (transferred, not copied). */
  imageTransferred?: boolean;
}

export interface RunOptions {
  model: string;
  backend: 'webgpu' | 'wasm' | 'cpu';
  worker: boolean;
  questions?: Question[];
  /** features.tsv URL */
  features?: string;
  /** abort the load at the first event with this status */
  abortAt?: 'download' | 'done';
  /** dispose() right after start instead */
  disposeEarly?: boolean;
  /** Make every Cache.put reject (quota) in the page. */
  failCacheWrites?: boolean;
  attention?: boolean;
  /** Default true (Cache Storage). */
  cache?: boolean;
  /** A converted detector's URL. */
  detector?: string;
  /** Where the package's data/ files are served (Visual Genome names). */
  data?: string;
  /** With a detector: an image file's URL, detected, then asked about (`imageQuestions`). */
  image?: string;
  imageQuestions?: string[];
  /** Answer this many times about zero features of this shape (benchmark: first vs steady). */
  synthetic?: { featureDim: number; boxes: number; answers: number };
  /** LxmertVqaLoadOptions.warmUp. */
  warmUp?: boolean;
  /** Abort the load at the first event for a file whose name starts with this. */
  abortAtFile?: string;
}

function report(e: unknown): ErrorReport {
  const err = e as Error & { where?: string; argument?: string };
  const out: ErrorReport = { name: err?.name, message: String(err?.message ?? e) };
  if (err?.where) out.where = err.where;
  if (err?.argument) out.argument = err.argument;
  return out;
}

let images: Map<string, Obj36Image> | null = null;

async function features(url: string): Promise<Map<string, Obj36Image>> {
  if (!images) {
    const text = await (await fetch(url)).text();
    images = new Map(parseObj36Tsv(text).map((i) => [i.imgId, i]));
  }
  return images;
}

async function run(o: RunOptions): Promise<LoadReport> {
  // the page's own work (parsing features.tsv) happens before the measurement starts
  const imgs = o.questions?.length ? await features(o.features!) : new Map<string, Obj36Image>();
  const longTasks: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTasks.push(e.duration);
  });
  observer.observe({ type: 'longtask', buffered: false });
  if (o.failCacheWrites) {
    Cache.prototype.put = () =>
      Promise.reject(new DOMException('quota exceeded (test)', 'QuotaExceededError'));
  }
  const t0 = performance.now();
  const events: LoadProgressEvent[] = [];
  const warnings: string[] = [];
  const ctl = new AbortController();
  const options: LxmertVqaLoadOptions = {
    model: o.model,
    backend: o.backend,
    worker: o.worker,
    cache: o.cache ?? true,
    wasmPaths: WASM_PATHS,
    signal: ctl.signal,
    timeoutMs: 20_000,
    onWarning: (m) => warnings.push(m),
    onProgress: (e) => {
      if (e.status !== 'progress')
        console.info(`${(performance.now() - t0).toFixed(0)} ms: ${e.status} ${e.file}`);
      events.push(e);
      if (o.abortAt && e.status === o.abortAt) ctl.abort(new DOMException('test', 'AbortError'));
      if (o.abortAtFile && e.status === 'progress' && e.file.startsWith(o.abortAtFile)) {
        ctl.abort(new DOMException('test', 'AbortError'));
      }
    },
  };
  if (o.detector) options.detector = o.detector;
  if (o.data) options.data = o.data;
  if (o.warmUp !== undefined) options.warmUp = o.warmUp;
  // the image's bytes are fetched before the measurement's load starts
  const imageBytes = o.image ? new Uint8Array(await (await fetch(o.image)).arrayBuffer()) : null;
  const out: LoadReport = { ok: false, events, warnings, longTasks, ms: 0 };
  const vqa = LxmertVqa.start(options);
  if (o.disposeEarly) vqa.dispose();
  try {
    await vqa.ready;
    out.readyMs = performance.now() - t0;
    out.phases = vqa.info.phases;
    out.backend = vqa.info.backend.backend;
    out.threads = vqa.info.backend.threads;
    out.worker = vqa.info.worker;
    out.cachedBytes = vqa.info.cachedBytes;
    out.bytes = vqa.info.bytes;
    if (o.questions?.length) {
      out.answers = [];
      for (const q of o.questions) {
        const r = await vqa.answer(imgs.get(q.imgId)!, q.question, {
          topK: 5,
          transfer: false,
          attention: o.attention,
        });
        out.answers.push({
          labels: r.answers.map((a) => a.labelId),
          scores: r.answers.map((a) => a.score),
          ...(r.crossAttention
            ? { attentionSum: r.crossAttention.values.reduce((s, v) => s + v, 0) }
            : {}),
        });
      }
    }
    if (o.synthetic) {
      const { featureDim, boxes, answers } = o.synthetic;
      out.answerMs = [];
      for (let i = 0; i < answers; i++) {
        const t = performance.now();
        await vqa.answer(
          {
            features: new Float32Array(boxes * featureDim),
            boxes: new Float32Array(boxes * 4),
            numBoxes: boxes,
          },
          'what is in the picture?',
        );
        out.answerMs.push(performance.now() - t);
      }
    }
    if (imageBytes) {
      const copy = imageBytes.slice();
      const d = await vqa.detect(copy); // transferred: `copy` is detached afterwards
      out.imageTransferred = copy.byteLength === 0;
      out.detected = {
        objectIds: Array.from(d.objectIds),
        boxes: Array.from(d.boxes),
        features: Array.from(d.features.subarray(0, 64)),
        labels: d.labels,
      };
      out.imageAnswers = [];
      for (const q of o.imageQuestions ?? []) {
        const r = await vqa.answer(imageBytes.slice(), q, { topK: 5 });
        out.imageAnswers.push({
          labels: r.answers.map((a) => a.labelId),
          scores: r.answers.map((a) => a.score),
        });
      }
    }
    out.ok = true;
  } catch (e) {
    out.error = report(e);
  } finally {
    vqa.dispose();
    out.ms = performance.now() - t0;
    // let the last long task entries arrive
    await new Promise((r) => setTimeout(r, 100));
    observer.disconnect();
  }
  return out;
}

/** Cancel an answer mid-flight: returns the error's name. */
async function cancelAnswer(o: RunOptions & { question: Question }): Promise<string> {
  const vqa = await LxmertVqa.load({
    model: o.model,
    backend: o.backend,
    worker: o.worker,
    wasmPaths: WASM_PATHS,
  });
  try {
    const imgs = await features(o.features!);
    const ctl = new AbortController();
    const p = vqa.answer(imgs.get(o.question.imgId)!, o.question.question, {
      signal: ctl.signal,
      transfer: false,
    });
    ctl.abort(new DOMException('cancelled by the test', 'AbortError'));
    const name = await p.then(
      () => 'resolved',
      (e: Error) => e.name,
    );
    // the model still answers afterwards
    const r = await vqa.answer(imgs.get(o.question.imgId)!, o.question.question, {
      transfer: false,
    });
    return `${name}; then ${r.answers[0].labelId}`;
  } finally {
    vqa.dispose();
  }
}

/** Flip a byte of the cached copy of the shard with this sha256. */
async function corruptCached(sha256: string): Promise<boolean> {
  const cache = await caches.open(CACHE_NAME);
  const key = `https://lxmert-web.invalid/sha256/${sha256}`;
  const res = await cache.match(key);
  if (!res) return false;
  const bytes = new Uint8Array(await res.arrayBuffer());
  bytes[7] ^= 0xff;
  await cache.put(key, new Response(bytes));
  return true;
}

/**
 * The benchmark's baseline: only download `files` (relative to `base`), `concurrency` at a time,
 * reading every body to the end. Milliseconds.
 */
async function download(base: string, files: string[], concurrency = 4): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++];
      const res = await fetch(new URL(f, base), { cache: 'no-store' });
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - t0;
}

const api = { run, download, cancelAnswer, corruptCached, listCached, deleteCached, cacheUsage };
export type AppApi = typeof api;
(window as unknown as { lxmertApp: AppApi }).lxmertApp = api;
