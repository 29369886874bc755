/**
 * The per-shape GEMM benchmark's body (bench/gemm_shapes/run.mjs runs it in Chromium and in
 * Node): for each lxmert-base product shape [m, k] × [k, n] + bias, our WASM GEMM kernel
 * (GemmEngine, one thread, each instruction set the runtime validates) against ONNX Runtime
 * Web's WASM MatMul + Add (one thread) on the same numbers, alternating within each round;
 * GFLOP/s from the median of the rounds.
 */
import { createGemmEngine, type GemmEngine } from '../../kernels/wasm/gemm.js';
import { gemmModuleBytes } from '../../kernels/wasm/gemm_kernel.js';
import { linearOnnx } from './onnx_linear.js';

/** [m, k, n]: 20 tokens, 36 regions, both streams' rows (56); the answer head's single row. */
export const SHAPES: [number, number, number][] = [
  [20, 768, 2304],
  [20, 768, 768],
  [20, 768, 3072],
  [20, 3072, 768],
  [36, 768, 2304],
  [36, 768, 768],
  [36, 768, 3072],
  [36, 3072, 768],
  [36, 2048, 768],
  [56, 768, 1536],
  [1, 1536, 3129],
];

/** The parts of onnxruntime-web this uses (the page and Node import it differently). */
export interface OrtLike {
  env: { wasm: { numThreads?: number } };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
  InferenceSession: {
    create(model: Uint8Array): Promise<{
      run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>>;
      release(): Promise<void>;
    }>;
  };
}

/** A kernel build to measure: a name and its engine (one thread). */
export interface GemmVariant {
  name: string;
  engine: GemmEngine;
}

export interface ShapeRow {
  shape: string;
  /** GFLOP/s per engine ('ort' and each variant's name), median over rounds. */
  gflops: Record<string, number>;
  /** Each variant's GFLOP/s ÷ ORT's. */
  vsOrt: Record<string, number>;
  /** Largest |ours − ORT| over the output, per variant. */
  maxAbsDiff: Record<string, number>;
}

/** The engines this runtime can run: relaxed SIMD where it validates, and SIMD128. */
export function gemmVariants(): GemmVariant[] {
  const out: GemmVariant[] = [];
  for (const relaxed of [true, false]) {
    const bytes = gemmModuleBytes({ relaxed, shared: false, maxPages: 65536 });
    if (!WebAssembly.validate(bytes)) continue;
    const isa = relaxed ? 'relaxed-simd' : 'simd128';
    out.push({ name: isa, engine: createGemmEngine(isa) });
  }
  return out;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[(s.length >> 1) - 1] + s[s.length >> 1]) / 2;
}

/** A fixed pseudo-random stream in [-0.5, 0.5) (LCG), so every run sees the same numbers. */
function filler(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

export async function runShapes(
  ort: OrtLike,
  variants: GemmVariant[],
  options: { rounds: number; shapes?: [number, number, number][]; flopsPerTiming?: number },
): Promise<ShapeRow[]> {
  ort.env.wasm.numThreads = 1;
  const rows: ShapeRow[] = [];
  for (const [m, k, n] of options.shapes ?? SHAPES) {
    const rnd = filler(m * 7 + k * 13 + n);
    const w = new Float32Array(n * k).map(rnd); // [n, k], the PyTorch layout
    const bias = new Float32Array(n).map(rnd);
    const x = new Float32Array(m * k).map(rnd);
    const b = new Float32Array(k * n); // [k, n] for MatMul
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) b[j * n + i] = w[i * k + j];
    const session = await ort.InferenceSession.create(linearOnnx(m, k, n, b, bias));
    const feeds = { X: new ort.Tensor('float32', x, [m, k]) };
    const ref = (await session.run(feeds)).Y.data as Float32Array;
    const packed = variants.map((v) => v.engine.pack(w, bias, n, k));
    const flops = 2 * m * k * n;
    const reps = Math.max(1, Math.round((options.flopsPerTiming ?? 3e8) / flops));
    const timers: Record<string, () => Promise<void> | void> = {
      ort: async () => {
        for (let r = 0; r < reps; r++) await session.run(feeds);
      },
    };
    const maxAbsDiff: Record<string, number> = {};
    variants.forEach((v, i) => {
      const y = v.engine.run(x, m, packed[i]);
      let d = 0;
      for (let j = 0; j < y.length; j++) d = Math.max(d, Math.abs(y[j] - ref[j]));
      maxAbsDiff[v.name] = d;
      timers[v.name] = () => {
        for (let r = 0; r < reps; r++) v.engine.run(x, m, packed[i]);
      };
    });
    const times: Record<string, number[]> = {};
    for (const f of Object.values(timers)) await f(); // warm-up
    for (let round = 0; round < options.rounds; round++) {
      for (const [name, f] of Object.entries(timers)) {
        const t0 = performance.now();
        await f();
        (times[name] ??= []).push(performance.now() - t0);
      }
    }
    const gflops: Record<string, number> = {};
    for (const [name, t] of Object.entries(times)) {
      gflops[name] = +((flops * reps) / median(t) / 1e6).toFixed(2);
    }
    const vsOrt: Record<string, number> = {};
    for (const v of variants) vsOrt[v.name] = +(gflops[v.name] / gflops.ort).toFixed(3);
    rows.push({ shape: `${m}x${k}x${n}`, gflops, vsOrt, maxAbsDiff });
    variants.forEach((v, i) => v.engine.unpack(packed[i]));
    await session.release();
  }
  return rows;
}
