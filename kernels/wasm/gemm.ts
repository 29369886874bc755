/**
 * The dense layer's matrix product on the WASM path, on our own GEMM kernel (gemm_kernel.ts)
 * rather than tfjs-backend-wasm's: that one runs XNNPACK single-threaded even in its threaded
 * build and keeps a second, packed copy of every weight. Here each weight lives once, packed in
 * 8-column panels in the kernel's own memory; a call copies x in and the result out.
 *
 * The kernel is generated at first use: relaxed-SIMD (fused multiply-add) where
 * WebAssembly.validate accepts it, else SIMD128; without SIMD there is no engine (gemmEngine()
 * returns null) and dense stays on tf ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerKernelFlags, WASM_THREADS_FLAG } from '../flags.js';
import { kernelLog } from '../runtime/log.js';
import { gemmModuleBytes } from './gemm_kernel.js';

const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB, wasm32's limit
const ALIGN = 64;
/**
 * Byte offset of the helpers' control block in the shared memory: 128 int32, [0] job number,
 * [1..9] the job, [10] helpers done, [16 + i] helper i ready (set by the helper itself, so the
 * caller needs no event-loop turn to learn it).
 */
const CONTROL = 64;
const FIRST_BLOCK = 1024;
const MAX_THREADS = 64;
/** Below this many multiply-adds a product runs on the calling thread alone. */
const MIN_PARALLEL_MACS = 1 << 18;

/**
 * The helper threads' loop: wait for a new job number in control[0], run this helper's share of
 * the panels (control[1..9]: a, bp, bias, c, M, K, ldc, panels, threads), count it done in
 * control[10]. Plain JS in a Blob worker, so no extra file has to be served.
 */
const HELPER_SOURCE = `onmessage = (e) => {
  const { module, memory, index } = e.data;
  const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
  const c = new Int32Array(memory.buffer, ${CONTROL}, 128);
  let seen = Atomics.load(c, 0);
  Atomics.store(c, 16 + index, 1);
  for (;;) {
    Atomics.wait(c, 0, seen);
    seen = Atomics.load(c, 0);
    const threads = c[9];
    if (index >= threads) continue;
    const p0 = Math.floor((c[8] * index) / threads);
    const p1 = Math.floor((c[8] * (index + 1)) / threads);
    if (p1 > p0) gemm(c[1], c[2], c[3], c[4], c[5], c[6], c[7], p0, p1);
    Atomics.add(c, 10, 1);
  }
};`;

/** A Linear layer's weight and bias, packed in the engine's memory. */
export interface PackedGemm {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** in rounded up to even (the kernel takes k two at a time). */
  readonly kPad: number;
  /** ceil(out / 8). */
  readonly panels: number;
  /** Byte offsets of the packed B panels and of the padded bias. */
  readonly weightOffset: number;
  readonly biasOffset: number;
  /** Bytes held in the engine's memory (weight + bias). */
  readonly bytes: number;
  released: boolean;
}

type GemmFn = (
  a: number,
  bp: number,
  bias: number,
  c: number,
  m: number,
  k: number,
  ldc: number,
  p0: number,
  p1: number,
) => void;

interface Block {
  offset: number;
  bytes: number;
}

export class GemmEngine {
  readonly memory: WebAssembly.Memory;
  /** 'relaxed-simd' (f32x4.relaxed_madd) or 'simd128'. */
  readonly isa: 'relaxed-simd' | 'simd128';
  private readonly gemm: GemmFn;
  private top = FIRST_BLOCK; // below: unused, and the helpers' control block
  private readonly free: Block[] = [];
  private scratch: Block = { offset: 0, bytes: 0 };
  /** Packed right-hand side of product(). */
  private temp: Block = { offset: 0, bytes: 0 };
  private heldBytes = 0;

  private readonly helpers: Worker[] = [];
  private readonly control: Int32Array | null = null;

  /**
   * @param module the kernel, built for shared memory when `threads` > 1
   * @param threads threads per product, the calling one included (helpers are Blob workers)
   */
  constructor(module: WebAssembly.Module, isa: 'relaxed-simd' | 'simd128', threads = 1) {
    this.isa = isa;
    const shared = threads > 1;
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.gemm = instance.exports.gemm as GemmFn;
    if (!shared) return;
    this.control = new Int32Array(this.memory.buffer, CONTROL, 128);
    const url = URL.createObjectURL(new Blob([HELPER_SOURCE], { type: 'text/javascript' }));
    for (let index = 1; index < threads; index++) {
      const w = new Worker(url);
      w.onerror = (e) => kernelLog(`WASM GEMM helper ${index} failed: ${e.message}`);
      w.postMessage({ module, memory: this.memory, index });
      this.helpers.push(w);
    }
  }

  /**
   * Resolves once every helper has started (or after `timeoutMs`) with the threads ready. Helper
   * workers start only while the creating thread yields to its event loop: call this at load
   * time (warmUp does), not in the middle of synchronous work.
   */
  async whenReady(timeoutMs = 5000): Promise<number> {
    const t0 = performance.now();
    while (this.threads <= this.helpers.length && performance.now() - t0 < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.threads;
  }

  /** Helper threads started (threads() counts those ready). */
  get helperCount(): number {
    return this.helpers.length;
  }

  /** Threads a product can use now: this one and the helpers ready so far (in order). */
  get threads(): number {
    const ctl = this.control;
    let t = 1;
    while (ctl && t < MAX_THREADS && Atomics.load(ctl, 16 + t) === 1) t++;
    return t;
  }

  /** Bytes of packed weights currently held. */
  get bytesHeld(): number {
    return this.heldBytes;
  }

  private alloc(bytes: number): Block {
    const size = Math.ceil(bytes / ALIGN) * ALIGN;
    const i = this.free.findIndex((b) => b.bytes >= size);
    if (i >= 0) {
      const b = this.free[i];
      if (b.bytes === size) this.free.splice(i, 1);
      else this.free[i] = { offset: b.offset + size, bytes: b.bytes - size };
      return { offset: b.offset, bytes: size };
    }
    const end = this.top + size;
    if (end > MAX_PAGES * PAGE) throw new RangeError(`WASM GEMM memory: ${end} bytes > 4 GiB`);
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    const block = { offset: this.top, bytes: size };
    this.top = end;
    return block;
  }

  private release(block: Block): void {
    this.free.push(block);
    this.free.sort((a, b) => a.offset - b.offset);
    for (let i = this.free.length - 1; i > 0; i--) {
      const prev = this.free[i - 1];
      if (prev.offset + prev.bytes === this.free[i].offset) {
        prev.bytes += this.free[i].bytes;
        this.free.splice(i, 1);
      }
    }
    const last = this.free[this.free.length - 1];
    if (last && last.offset + last.bytes === this.top) {
      this.top = last.offset;
      this.free.pop();
    }
  }

  private f32(): Float32Array {
    return new Float32Array(this.memory.buffer);
  }

  /**
   * Pack a Linear layer: `weight` [out, in] row-major (the PyTorch layout), `bias` [out].
   * Free it with release().
   */
  pack(weight: Float32Array, bias: Float32Array, out: number, inF: number): PackedGemm {
    const kPad = inF + (inF & 1);
    const panels = Math.ceil(out / 8);
    const w = this.alloc(panels * kPad * 32);
    const b = this.alloc(panels * 32);
    const f = this.f32();
    f.fill(0, w.offset / 4, (w.offset + panels * kPad * 32) / 4);
    f.fill(0, b.offset / 4, b.offset / 4 + panels * 8);
    for (let n = 0; n < out; n++) {
      const base = w.offset / 4 + (n >> 3) * kPad * 8 + (n & 7);
      const row = n * inF;
      for (let k = 0; k < inF; k++) f[base + k * 8] = weight[row + k];
    }
    f.set(bias.subarray(0, out), b.offset / 4);
    this.heldBytes += w.bytes + b.bytes;
    return {
      inFeatures: inF,
      outFeatures: out,
      kPad,
      panels,
      weightOffset: w.offset,
      biasOffset: b.offset,
      bytes: w.bytes + b.bytes,
      released: false,
    };
  }

  /** Give a packed layer's memory back (idempotent). */
  unpack(p: PackedGemm): void {
    if (p.released) return;
    p.released = true;
    const wBytes = p.panels * p.kPad * 32;
    this.release({ offset: p.weightOffset, bytes: Math.ceil(wBytes / ALIGN) * ALIGN });
    this.release({ offset: p.biasOffset, bytes: Math.ceil((p.panels * 32) / ALIGN) * ALIGN });
    this.heldBytes -= p.bytes;
  }

  /**
   * A one-off product of two activations, a [m, k] · B → [m, n], B given as [n, k] ('nk', i.e.
   * a · Bᵀ) or [k, n] ('kn'), packed into scratch memory for this call (attention's q·kᵀ, p·v).
   */
  product(a: Float32Array, m: number, k: number, b: Float32Array, n: number, layout: 'nk' | 'kn') {
    const kPad = k + (k & 1);
    const panels = Math.ceil(n / 8);
    const wBytes = panels * kPad * 32;
    if (this.temp.bytes < wBytes + panels * 32) {
      if (this.temp.bytes) this.release(this.temp);
      this.temp = this.alloc(Math.max(wBytes + panels * 32, 2 * this.temp.bytes));
    }
    const w = this.temp.offset;
    const f = this.f32();
    const base = w / 4;
    f.fill(0, base, base + (wBytes + panels * 32) / 4);
    for (let j = 0; j < n; j++) {
      const col = base + (j >> 3) * kPad * 8 + (j & 7);
      if (layout === 'nk') for (let kk = 0; kk < k; kk++) f[col + kk * 8] = b[j * k + kk];
      else for (let kk = 0; kk < k; kk++) f[col + kk * 8] = b[kk * n + j];
    }
    const view: PackedGemm = {
      inFeatures: k,
      outFeatures: n,
      kPad,
      panels,
      weightOffset: w,
      biasOffset: w + wBytes,
      bytes: 0,
      released: false,
    };
    return this.run(a, m, view);
  }

  /** x [m, in] row-major → x · Wᵀ + bias, [m, out] row-major. */
  run(x: Float32Array, m: number, p: PackedGemm): Float32Array {
    // Columns are split across threads by whole panels: the calling thread takes the first
    // share, helper i the i-th.
    if (p.released) throw new Error('WASM GEMM: this layer was released');
    const { inFeatures: inF, outFeatures: out, kPad, panels } = p;
    const ldc = panels * 8;
    const aBytes = m * kPad * 4;
    const need = aBytes + m * ldc * 4 + ALIGN;
    if (this.scratch.bytes < need) {
      if (this.scratch.bytes) this.release(this.scratch);
      this.scratch = this.alloc(Math.max(need, 2 * this.scratch.bytes));
    }
    const a = this.scratch.offset;
    const c = a + Math.ceil(aBytes / ALIGN) * ALIGN;
    let f = this.f32();
    if (kPad === inF) {
      f.set(x.subarray(0, m * inF), a / 4);
    } else {
      for (let i = 0; i < m; i++) {
        f.set(x.subarray(i * inF, (i + 1) * inF), a / 4 + i * kPad);
        f[a / 4 + i * kPad + inF] = 0;
      }
    }
    const threads = m * kPad * ldc >= MIN_PARALLEL_MACS ? Math.min(this.threads, panels) : 1;
    if (threads > 1 && this.control) {
      const ctl = this.control;
      [a, p.weightOffset, p.biasOffset, c, m, kPad, ldc, panels, threads].forEach((v, i) =>
        Atomics.store(ctl, i + 1, v),
      );
      Atomics.store(ctl, 10, 0);
      Atomics.add(ctl, 0, 1);
      Atomics.notify(ctl, 0);
      this.gemm(a, p.weightOffset, p.biasOffset, c, m, kPad, ldc, 0, Math.floor(panels / threads));
      while (Atomics.load(ctl, 10) < threads - 1) {
        // the helpers' shares: a short spin (a page's main thread may not Atomics.wait)
      }
    } else {
      this.gemm(a, p.weightOffset, p.biasOffset, c, m, kPad, ldc, 0, panels);
    }
    f = this.f32();
    if (ldc === out) return f.slice(c / 4, c / 4 + m * out);
    const y = new Float32Array(m * out);
    for (let i = 0; i < m; i++) y.set(f.subarray(c / 4 + i * ldc, c / 4 + i * ldc + out), i * out);
    return y;
  }
}

let engine: GemmEngine | null | undefined;

/** Which kernel this runtime can run: relaxed-SIMD, SIMD128, or none. */
export function gemmIsa(): 'relaxed-simd' | 'simd128' | null {
  if (typeof WebAssembly !== 'object') return null;
  for (const isa of ['relaxed-simd', 'simd128'] as const) {
    const bytes = gemmModuleBytes({
      relaxed: isa === 'relaxed-simd',
      shared: false,
      maxPages: MAX_PAGES,
    });
    if (WebAssembly.validate(bytes)) return isa;
  }
  return null;
}

/**
 * Threads the engine will use: the LXMERT_WASM_THREADS flag when set (> 0), else
 * navigator.hardwareConcurrency in a cross-origin-isolated page or worker (shared memory and
 * Blob workers available), else 1 (Node, pages without isolation).
 */
function threadCount(): number {
  const g = globalThis as {
    crossOriginIsolated?: boolean;
    Worker?: unknown;
    navigator?: { hardwareConcurrency?: number };
  };
  const isolated = g.crossOriginIsolated === true && typeof g.Worker === 'function';
  if (!isolated) return 1;
  registerKernelFlags();
  const forced = tf.env().getNumber(WASM_THREADS_FLAG);
  const n = forced > 0 ? forced : (g.navigator?.hardwareConcurrency ?? 1);
  return Math.max(1, Math.min(n, MAX_THREADS));
}

/** The process-wide engine (made at first call), or null where WASM SIMD is missing. */
export function gemmEngine(): GemmEngine | null {
  if (engine !== undefined) return engine;
  const isa = gemmIsa();
  if (!isa) return (engine = null);
  const threads = threadCount();
  const bytes = gemmModuleBytes({
    relaxed: isa === 'relaxed-simd',
    shared: threads > 1,
    maxPages: MAX_PAGES,
  });
  engine = new GemmEngine(new WebAssembly.Module(bytes), isa, threads);
  return engine;
}
