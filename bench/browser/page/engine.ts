/**
 * One benchmark configuration, run inside its own dedicated worker (bench/browser/page/worker.ts)
 * so that each gets a fresh WASM module with its own thread count: lxmert-web on wasm (1 or N
 * threads) or webgpu, or ONNX Runtime Web's WASM backend (1 or N threads) on the ONNX export of
 * bench/torch_lxmert.py. Same query everywhere: the VQA path, batch 1, 20 tokens, 36 regions,
 * lxmert-base shapes, seeded random full-size weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/backend.js';
import { DEFAULT_CONFIG, type LxmertConfig } from '../../../src/config.js';
import {
  buildModel,
  LxmertForQuestionAnswering,
  LxmertModel,
  randomWeightSource,
  type LxmertInputs,
} from '../../../src/model/index.js';
import { dispatchesPerLayerKind, forwardDispatches } from '../../../src/model/dispatches.js';
import { warmUp } from '../../../src/model/warm_up.js';
import { registerKernelFlags, WASM_THREADS_FLAG } from '../../../kernels/flags.js';
import { gemmEngine, type EngineProfile } from '../../../kernels/wasm/gemm.js';
import { gpuMemory, trackDispatches } from '../../../kernels/runtime/dispatch_counter.js';

export interface EngineRequest {
  engine: 'lxmert' | 'ort';
  backend: 'wasm' | 'webgpu';
  /** WASM threads (1: tfjs-backend-wasm's single-threaded SIMD build). */
  threads: number;
  runs: number;
  /** Warm up during load (lxmert: warmUp; ort: one run), so ready → first answer is steady. */
  warmUp: boolean;
  batch: number;
  tokens: number;
  boxes: number;
  onnxUrl: string;
  /** Count dispatches per layer kind (webgpu: tiny-width models differing by one layer). */
  layerDispatches: boolean;
  /** lxmert wasm: the helpers' spin bound in µs (GemmEngine.spinMicros); null: the default. */
  spinUs: number | null;
  /** lxmert wasm: forwards to run under GemmEngine.startProfile after the timed ones (0: none). */
  profileRuns: number;
  /** lxmert: stay idle this long after the answers, between 'idle-start'/'idle-end' logs. */
  idleMs: number;
}

/** Where one forward's time goes on lxmert wasm: the engine's profile per forward. */
export interface ForwardProfile extends Omit<EngineProfile, 'wakeUs'> {
  forwards: number;
  forwardMs: number;
  /** forwardMs − hooksMs: tf.js ops and JS outside the wasm hooks (kernels/wasm/*.ts). */
  outsideHooksMs: number;
  /** Helper 1's wake-up (job published → first claim), µs: median, 90th percentile, count. */
  wakeUs: { median: number; p90: number; n: number };
}

export interface EngineResult {
  name: string;
  engine: string;
  backend: string;
  threads: number;
  /** Start of the worker's work → model built (and warmed up when asked). */
  loadMs: number;
  warmUpMs: number;
  /** Ready → first answer read back. */
  firstMs: number;
  /** Median (and min/max) of the runs after the first answer. */
  medianMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
  /** tf.profile peak bytes of one answer (weights included; tfjs engines only). */
  peakTensorBytes: number | null;
  /** WebGPU buffers allocated after one answer (the buffer pool, ≥ the peak in use). */
  peakGpuBytes: number | null;
  /** WASM linear memory after the answers (tfjs-backend-wasm's heap; never shrinks). */
  wasmHeapBytes: number | null;
  parameterBytes: number | null;
  dispatches: number | null;
  dispatchesPerLayer: Record<string, number> | null;
  /** lxmert-web wasm: the GEMM kernel's instruction set and threads ready at the end. */
  gemm: { isa: string; threads: number; helpers: number; spinUs: number } | null;
  /** lxmert wasm with profileRuns: per forward, by part. */
  profile: ForwardProfile | null;
  /** First answer scores (for a sanity look: finite, not all equal). */
  scoreSample: number[];
}

const TINY: Partial<LxmertConfig> = {
  hiddenSize: 64,
  numAttentionHeads: 4,
  intermediateSize: 128,
  vocabSize: 512,
  visualFeatDim: 48,
  maxPositionEmbeddings: 64,
};

function vqaConfig(): LxmertConfig {
  return {
    ...DEFAULT_CONFIG,
    numQaLabels: 3129,
    architectures: ['LxmertForQuestionAnswering'],
    id2label: null,
  };
}

/** Seeded random inputs: ids in [1000, vocab), all tokens attended, features ≥ 0, valid boxes. */
function lxmertInputs(cfg: LxmertConfig, b: number, l: number, v: number): LxmertInputs {
  return tf.tidy(() => {
    const xy = tf.randomUniform([b, v, 2], 0, 0.5, 'float32', 2);
    const wh = tf.randomUniform([b, v, 2], 0.05, 0.5, 'float32', 3);
    const low = Math.min(1000, cfg.vocabSize - 1);
    return {
      inputIds: tf.randomUniform([b, l], low, cfg.vocabSize, 'int32', 1) as tf.Tensor2D,
      attentionMask: tf.ones([b, l], 'int32') as tf.Tensor2D,
      visualFeats: tf.relu(
        tf.randomNormal([b, v, cfg.visualFeatDim], 0, 1, 'float32', 4),
      ) as tf.Tensor3D,
      visualPos: tf.concat([xy, tf.add(xy, wh)], 2) as tf.Tensor3D,
    };
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function timeAnswers(
  once: () => Promise<number[]>,
  runs: number,
): Promise<{ firstMs: number; times: number[]; sample: number[] }> {
  let t = performance.now();
  const sample = await once();
  const firstMs = performance.now() - t;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    await once();
    times.push(performance.now() - t);
  }
  return { firstMs, times, sample };
}

/** Dispatches of one LxmertModel forward (no head) with these layer counts, tiny widths. */
async function dispatchesFor(req: EngineRequest, l: number, r: number, x: number) {
  const cfg = { ...vqaConfig(), ...TINY, lLayers: l, rLayers: r, xLayers: x, architectures: [] };
  const model = new LxmertModel(cfg, randomWeightSource(1));
  const inp = lxmertInputs(cfg, req.batch, req.tokens, req.boxes);
  const n = await forwardDispatches(model, inp);
  tf.dispose(Object.values(inp));
  model.dispose();
  return n;
}

async function layerDispatches(req: EngineRequest): Promise<Record<string, number>> {
  const { language, vision, cross } = await dispatchesPerLayerKind((l, r, x) =>
    dispatchesFor(req, l, r, x),
  );
  return { language, vision, cross };
}

/** `runs` forwards under the GEMM engine's profile, summed up per forward. */
async function profileForwards(
  once: () => Promise<unknown>,
  runs: number,
): Promise<ForwardProfile> {
  const engine = gemmEngine()!;
  engine.startProfile();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await once();
  const forwardMs = (performance.now() - t0) / runs;
  const p = engine.stopProfile()!;
  const per: Record<string, number> = {};
  for (const [k, v] of Object.entries(p)) if (typeof v === 'number') per[k] = v / runs;
  const wake = [...p.wakeUs].sort((a, b) => a - b);
  return {
    ...(per as unknown as Omit<EngineProfile, 'wakeUs'>),
    forwards: runs,
    forwardMs,
    outsideHooksMs: forwardMs - per.hooksMs,
    wakeUs: {
      median: wake.length ? median(wake) : 0,
      p90: wake.length ? wake[Math.floor(0.9 * (wake.length - 1))] : 0,
      n: wake.length,
    },
  };
}

async function runLxmert(req: EngineRequest, t0: number): Promise<EngineResult> {
  if (req.backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // One thread: the single-threaded SIMD build (what a page without cross-origin isolation
    // gets); more: the threaded SIMD build with that many threads.
    if (req.threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    else wasm.setThreadsCount(req.threads);
    registerKernelFlags();
    tf.env().set(WASM_THREADS_FLAG, req.threads); // our GEMM kernel's threads
  }
  const sel = await selectBackend(req.backend, {
    wasmPaths: '/tfjs-wasm/',
    log: (m) => console.log(`lxmert-web: ${m}`),
  });
  if (sel.backend !== req.backend) throw new Error(`wanted ${req.backend}, got ${sel.reason}`);
  tf.enableProdMode();
  const cfg = vqaConfig();
  const model = buildModel(cfg, randomWeightSource(0)) as LxmertForQuestionAnswering;
  const x = lxmertInputs(cfg, req.batch, req.tokens, req.boxes);
  const gemm = req.backend === 'wasm' ? gemmEngine() : null;
  if (gemm && req.spinUs !== null) gemm.spinMicros = req.spinUs;
  await new Promise((resolve) => setTimeout(resolve, 0)); // one event-loop turn, as a page has
  let warmUpMs = 0;
  if (req.warmUp) {
    const w = await warmUp(model, { batch: req.batch, tokens: req.tokens, boxes: req.boxes });
    warmUpMs = w.ms;
  }
  const loadMs = performance.now() - t0;
  const once = async () => {
    const s = model.answerScores(x, { validate: false });
    const v = await s.data();
    s.dispose();
    return Array.from(v.slice(0, 4));
  };
  const { firstMs, times, sample } = await timeAnswers(once, req.runs);
  const profile = gemm && req.profileRuns > 0 ? await profileForwards(once, req.profileRuns) : null;
  if (req.idleMs > 0) {
    // The page after an answer, model loaded, nothing asked: the driver reads the browser's CPU
    // time between these two lines (the helper threads must not spin while no forward runs).
    console.log('idle-start');
    await new Promise((resolve) => setTimeout(resolve, req.idleMs));
    console.log('idle-end');
  }
  const counter = trackDispatches();
  const prof = await tf.profile(async () => {
    const s = model.answerScores(x, { validate: false });
    await s.data();
    return s;
  });
  const dispatches = counter.stop().total;
  const gpu = gpuMemory();
  const wasmBackend = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  const result: EngineResult = {
    name: '',
    engine: 'lxmert-web',
    backend: req.backend,
    threads: req.backend === 'wasm' ? req.threads : 0,
    loadMs,
    warmUpMs,
    firstMs,
    medianMs: median(times),
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    runs: times.length,
    peakTensorBytes: prof.peakBytes,
    peakGpuBytes: gpu ? gpu.bytesAllocated : null,
    wasmHeapBytes: wasmBackend.wasm ? wasmBackend.wasm.HEAPU8.buffer.byteLength : null,
    parameterBytes: model.parameterBytes(),
    dispatches: req.backend === 'webgpu' ? dispatches : null,
    dispatchesPerLayer: null,
    gemm: null,
    profile,
    scoreSample: sample,
  };
  const engine = req.backend === 'wasm' ? gemmEngine() : null;
  if (engine) {
    result.gemm = {
      isa: engine.isa,
      threads: engine.threads,
      helpers: engine.helperCount,
      spinUs: engine.spinMicros,
    };
  }
  tf.dispose(Object.values(x));
  model.dispose();
  if (req.layerDispatches && req.backend === 'webgpu') {
    result.dispatchesPerLayer = await layerDispatches(req);
  }
  return result;
}

async function runOrt(req: EngineRequest, t0: number): Promise<EngineResult> {
  const ort = await import('onnxruntime-web/wasm');
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = req.threads;
  ort.env.wasm.proxy = false;
  const session = await ort.InferenceSession.create(req.onnxUrl, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const { batch: b, tokens: l, boxes: v } = req;
  // Same kinds of values as lxmertInputs (the timings do not depend on them).
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) + 0.5) / 4294967296;
  const ids = BigInt64Array.from({ length: b * l }, () => BigInt(1000 + Math.floor(rnd() * 29000)));
  const feats = Float32Array.from({ length: b * v * 2048 }, () => Math.max(0, rnd() * 2 - 1));
  const pos = new Float32Array(b * v * 4);
  for (let i = 0; i < b * v; i++) {
    const [x0, y0] = [rnd() * 0.5, rnd() * 0.5];
    pos.set([x0, y0, x0 + 0.05 + rnd() * 0.45, y0 + 0.05 + rnd() * 0.45], 4 * i);
  }
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
    input_ids: new ort.Tensor('int64', ids, [b, l]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(b * l).fill(1n), [b, l]),
    visual_feats: new ort.Tensor('float32', feats, [b, v, 2048]),
    visual_pos: new ort.Tensor('float32', pos, [b, v, 4]),
  };
  for (const name of Object.keys(feeds)) {
    if (!session.inputNames.includes(name)) delete feeds[name];
  }
  const once = async () => {
    const out = await session.run(feeds);
    const t = out[session.outputNames[0]];
    const values = Array.from((t.data as Float32Array).slice(0, 4));
    for (const o of Object.values(out)) o.dispose();
    return values;
  };
  let warmUpMs = 0;
  if (req.warmUp) {
    const w0 = performance.now();
    await once();
    warmUpMs = performance.now() - w0;
  }
  const loadMs = performance.now() - t0;
  const { firstMs, times, sample } = await timeAnswers(once, req.runs);
  await session.release();
  return {
    name: '',
    engine: 'onnxruntime-web',
    backend: 'wasm',
    threads: req.threads,
    loadMs,
    warmUpMs,
    firstMs,
    medianMs: median(times),
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    runs: times.length,
    peakTensorBytes: null,
    peakGpuBytes: null,
    wasmHeapBytes: null,
    parameterBytes: null,
    dispatches: null,
    dispatchesPerLayer: null,
    gemm: null,
    profile: null,
    scoreSample: sample,
  };
}

export async function runEngine(req: EngineRequest): Promise<EngineResult> {
  const t0 = performance.now();
  return req.engine === 'ort' ? runOrt(req, t0) : runLxmert(req, t0);
}
