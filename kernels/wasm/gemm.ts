/**
 * The dense layer's matrix product on the WASM path, on our own GEMM kernel (gemm_kernel.ts)
 * rather than tfjs-backend-wasm's: that one runs XNNPACK single-threaded even in its threaded
 * build and keeps a second, packed copy of every weight. Here each weight lives once, packed in
 * 8-column panels in the kernel's own memory (float32, float16 or int8 + row scales, as the model
 * stores it); a call copies x in and the result out.
 *
 * The kernel is generated at first use: relaxed-SIMD (fused multiply-add) where
 * WebAssembly.validate accepts it, else SIMD128; without SIMD there is no engine (gemmEngine()
 * returns null) and dense stays on tf ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerKernelFlags, WASM_THREADS_FLAG } from '../flags.js';
import type { Int8Rows } from '../../src/codec/int8.js';
import { kernelLog } from '../runtime/log.js';
import { GEMM_ACT, gemmModuleBytes, gemmPanelLayout, tileRowsFor } from './gemm_kernel.js';

const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB, wasm32's limit
const ALIGN = 64;
/**
 * The helpers' control block in the shared memory, 128 int32 at byte CONTROL: [0] job number
 * (helpers Atomics.wait on it), [1] kind (0 gemm, 1 attention), [2..19] the job's arguments
 * (gemm: a, bp, bias, c, M, K, ldc, act, dtype (0 float32, 1 float16, 2 int8), panel buffer,
 * tile rows, int8 column scales)
 * (float ones as float32 bits), [20] claim word: job tag << 16 | next unit, [21] units,
 * [22] units per claim, [23] units done (the caller waits on it), [24] bytes of attention
 * scratch per thread, [25] units the helpers ran (a statistic), [26] how long (µs) a helper
 * spins on [0] after a job before it blocks in Atomics.wait, [27] profiling on (1: helpers stamp
 * their first claim of each job), [32 + i] helper i ready (set by the helper itself, so the
 * caller needs no event-loop turn to learn it). Float64 at byte STAMPS (profiling only): [0] when
 * the caller published the job, [i] when helper i first claimed a unit of it (0: not yet), both
 * as performance.timeOrigin + performance.now() (milliseconds, comparable across threads).
 *
 * Work is claimed, not assigned: every thread, the caller included, takes `chunk` units at a
 * time with a compare-and-swap on the claim word until none are left, so a helper the OS has not
 * scheduled yet costs nothing but its missing share (the caller takes it), and the caller only
 * waits for chunks already taken. Arguments are read after a successful claim: the job cannot
 * finish (and its arguments change) while a claimed chunk is not done. The tag makes a stale
 * claim word of a finished job fail the compare-and-swap.
 */
const CONTROL = 64;
const C = {
  job: 0,
  kind: 1,
  args: 2,
  claim: 20,
  units: 21,
  chunk: 22,
  done: 23,
  sStride: 24,
  helperUnits: 25,
  spinUs: 26,
  profiling: 27,
};
const READY = 32;
const MAX_THREADS = 64;
const STAMPS = CONTROL + 512;
const FIRST_BLOCK = 2048; // control block and stamps below

/** Below this many multiply-adds a product runs on the calling thread alone. */
const MIN_PARALLEL_MACS = 1 << 18;
/** Claims per thread a job is cut into (more: better balance, more compare-and-swaps). */
const CLAIMS_PER_THREAD = 4;

/**
 * Claim and run units of the current job until none are left (also the caller's loop: the same
 * text is the helpers' source). `ex` the module's exports, `c`/`cf` int32/float32 views of the
 * control block.
 */
function workOnJob(
  ex: Record<string, (...a: number[]) => void>,
  c: Int32Array,
  cf: Float32Array,
  index: number,
  stamps: Float64Array,
): void {
  const tag = Atomics.load(c, 0) & 0xffff;
  for (let first = index > 0 && c[27] === 1; ;) {
    const v = Atomics.load(c, 20);
    if (v >>> 16 !== tag) return;
    const next = v & 0xffff;
    const units = c[21];
    if (next >= units) return;
    const take = Math.min(c[22], units - next);
    if (Atomics.compareExchange(c, 20, v, v + take) !== v) continue;
    if (first) {
      stamps[index] = performance.timeOrigin + performance.now();
      first = false;
    }
    if (c[1] === 0 && c[10] === 0) {
      ex['gemm' + c[12]](c[2], c[3], c[4], c[5], c[6], c[7], c[8], next, next + take, c[9]);
    } else if (c[1] === 0 && c[10] === 2) {
      const tmp = c[11] + index * c[24];
      const gemm = ex['gemm_i8_' + c[12]];
      gemm(c[2], c[3], c[4], c[5], c[6], c[7], c[8], next, next + take, c[9], tmp, c[13]);
    } else if (c[1] === 0) {
      const tmp = c[11] + index * c[24];
      const gemm = ex['gemm_f16_' + c[12]];
      gemm(c[2], c[3], c[4], c[5], c[6], c[7], c[8], next, next + take, c[9], tmp);
    } else {
      const s = c[7] + index * c[24];
      const a = (i: number) => c[i];
      ex.attention(
        a(2),
        a(3),
        a(4),
        a(5),
        a(6),
        s,
        a(8),
        a(9),
        a(10),
        a(11),
        a(12),
        a(13),
        a(14),
        a(15),
        cf[16],
        next,
        next + take,
      );
    }
    if (index > 0) Atomics.add(c, 25, take);
    Atomics.add(c, 23, take);
    Atomics.notify(c, 23);
  }
}

/**
 * The helper threads' loop: wait for a new job number, claim units with workOnJob. Plain JS in a
 * Blob worker, so no extra file has to be served.
 */
const HELPER_SOURCE = `const workOnJob = ${workOnJob.toString()};
onmessage = (e) => {
  const { module, memory, index } = e.data;
  const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const c = new Int32Array(memory.buffer, ${CONTROL}, 128);
  const cf = new Float32Array(memory.buffer, ${CONTROL}, 128);
  const stamps = new Float64Array(memory.buffer, ${STAMPS}, ${MAX_THREADS});
  let seen = Atomics.load(c, 0);
  Atomics.store(c, ${READY} + index, 1);
  for (;;) {
    // Spin a bounded time for the next job of the same forward, then sleep (no work: no CPU).
    const spinUs = c[${C.spinUs}];
    if (spinUs > 0 && Atomics.load(c, 0) === seen) {
      const end = performance.now() + spinUs / 1000;
      for (let i = 0; Atomics.load(c, 0) === seen; i++) {
        if ((i & 63) === 0 && performance.now() > end) break;
      }
    }
    Atomics.wait(c, 0, seen);
    seen = Atomics.load(c, 0);
    workOnJob(ex, c, cf, index, stamps);
  }
};`;

/** The gemm job's dtype word (control [10]) per PackedGemm dtype. */
const JOB_DTYPE = { f32: 0, f16: 1, i8: 2 } as const;

/** Bytes of a packed weight block (int8: the panels, one byte per weight, then the scales). */
function weightBytes(dtype: PackedGemm['dtype'], panels: number, kPad: number): number {
  if (dtype === 'i8') return panels * kPad * 8 + panels * 32; // bytes, then 8 scales per panel
  return panels * kPad * (dtype === 'f16' ? 16 : 32);
}

/**
 * Zero `view` over the weight block at element `base0` and scatter `weight` [out, inF] row-major
 * into it in 8-column panels: element (n, k) at base0 + (n >> 3)·kPad·8 + k·8 + (n & 7).
 */
function scatterPanels(
  view: Float32Array | Uint16Array | Int8Array,
  base0: number,
  weight: Float32Array | Uint16Array | Int8Array,
  out: number,
  inF: number,
  kPad: number,
): void {
  view.fill(0, base0, base0 + Math.ceil(out / 8) * kPad * 8);
  for (let n = 0; n < out; n++) {
    const base = base0 + (n >> 3) * kPad * 8 + (n & 7);
    const row = n * inF;
    for (let k = 0; k < inF; k++) view[base + k * 8] = weight[row + k];
  }
}

/** A Linear layer's weight and bias, packed in the engine's memory. */
export interface PackedGemm {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** in rounded up to a multiple of GEMM_K_MULTIPLE (gemmPanelLayout; k goes several at a time). */
  readonly kPad: number;
  /** ceil(out / 8). */
  readonly panels: number;
  /** Byte offsets of the packed B panels and of the padded bias. */
  readonly weightOffset: number;
  readonly biasOffset: number;
  /** Bytes held in the engine's memory (weight + int8 scales + bias). */
  readonly bytes: number;
  /**
   * How B is stored: float32, float16 bits or int8 values (both widened a panel at a time in
   * the kernel; int8 times per-column scales).
   */
  readonly dtype: 'f32' | 'f16' | 'i8';
  /** int8: byte offset of the scales (panels · 8 float32, after the panels in the same block). */
  readonly scalesOffset: number;
  released: boolean;
}

type Exports = Record<string, (...args: number[]) => void>;

/** Where attention() finds one of q, k, v: rows `ld` floats apart, the range at `offset`. */
export interface AttentionOperand {
  data: Float32Array;
  /** Floats per row (the projection's full width). */
  ld: number;
  offset: number;
}

/**
 * What a stretch of calls cost, by part (GemmEngine.startProfile): where threads win or lose.
 * Times in milliseconds unless named otherwise.
 */
export interface EngineProfile {
  /** Jobs split across threads, by kind, and products run on the calling thread alone. */
  gemmJobs: number;
  attentionJobs: number;
  singleJobs: number;
  /** Wall time of the split jobs (publish → last unit done) by kind, and of the single ones. */
  gemmMs: number;
  attentionMs: number;
  singleMs: number;
  /** Of the split jobs: the caller's own units, then its wait for units a helper claimed. */
  callerWorkMs: number;
  callerWaitMs: number;
  /** Units (panels, heads) of the split jobs, and how many the helpers ran. */
  units: number;
  helperUnits: number;
  /** Split jobs where helper 1 claimed nothing (it woke after the caller took every unit). */
  helperMissed: number;
  /** Per split job where helper 1 claimed: job published → its first claim, in µs. */
  wakeUs: number[];
  /** Copies into and out of the module's memory, add_layer_norm, all of the entry points. */
  copyInMs: number;
  copyOutMs: number;
  addLayerNormMs: number;
  engineMs: number;
  /** All of the tf-side hooks (kernels/wasm/dense.ts, attention.ts): engineMs plus reading the
   * input tensors and making the output ones. */
  hooksMs: number;
}

/** The parts of EngineProfile timed by GemmEngine.count. */
export type ProfilePart = 'copyInMs' | 'copyOutMs' | 'addLayerNormMs' | 'engineMs' | 'hooksMs';

function emptyProfile(): EngineProfile {
  return {
    gemmJobs: 0,
    attentionJobs: 0,
    singleJobs: 0,
    gemmMs: 0,
    attentionMs: 0,
    singleMs: 0,
    callerWorkMs: 0,
    callerWaitMs: 0,
    units: 0,
    helperUnits: 0,
    helperMissed: 0,
    wakeUs: [],
    copyInMs: 0,
    copyOutMs: 0,
    addLayerNormMs: 0,
    engineMs: 0,
    hooksMs: 0,
  };
}

/** How run, denseAddLayerNorm and attention hand back their result. */
export interface ResultOptions {
  /**
   * A view of the engine's memory, valid until the next call on this engine (default false: a
   * fresh copy). Rows not packed (an output width not a multiple of 8) still come as a copy.
   */
  view?: boolean;
}

/** What the engine needs of a helper thread (a Worker in pages). */
export interface HelperThread {
  postMessage(message: unknown): void;
  terminate(): void;
}

let helperUrl: string | undefined;

/** A helper as a Blob worker (no extra file to serve). */
function blobWorker(source: string, index: number): HelperThread {
  helperUrl ??= URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const w = new Worker(helperUrl);
  w.onerror = (e) => kernelLog(`WASM GEMM helper ${index} failed: ${e.message}`);
  return w;
}

interface Block {
  offset: number;
  bytes: number;
}

export class GemmEngine {
  readonly memory: WebAssembly.Memory;
  /** 'relaxed-simd' (f32x4.relaxed_madd) or 'simd128'. */
  readonly isa: 'relaxed-simd' | 'simd128';
  private readonly ex: Exports;
  private top = FIRST_BLOCK; // below: unused, and the helpers' control block
  private readonly free: Block[] = [];
  private scratch: Block = { offset: 0, bytes: 0 };
  private heldBytes = 0;

  private readonly helpers: HelperThread[] = [];
  private readonly control: Int32Array | null = null;
  private readonly controlF: Float32Array | null = null;
  private readonly stamps: Float64Array | null = null;
  private job = 0;
  /** Counting where the time goes (startProfile), or null. */
  private profile: EngineProfile | null = null;
  /** Below this many multiply-adds a product (an attention: both) runs on this thread alone. */
  minParallelMacs = MIN_PARALLEL_MACS;
  /** Whether this thread may block in Atomics.wait (not a page's main thread). */
  private readonly canWait: boolean = false;

  /**
   * @param module the kernel, built for shared memory when `threads` > 1
   * @param threads threads per product, the calling one included
   * @param spawnHelper starts a helper thread running `source` (default: a Blob worker)
   */
  constructor(
    module: WebAssembly.Module,
    isa: 'relaxed-simd' | 'simd128',
    threads = 1,
    spawnHelper: (source: string, index: number) => HelperThread = blobWorker,
  ) {
    this.isa = isa;
    const shared = threads > 1;
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.ex = instance.exports as unknown as Exports;
    if (!shared) return;
    this.control = new Int32Array(this.memory.buffer, CONTROL, 128);
    this.controlF = new Float32Array(this.memory.buffer, CONTROL, 128);
    this.stamps = new Float64Array(this.memory.buffer, STAMPS, MAX_THREADS);
    try {
      Atomics.wait(this.control, 127, 1, 0); // 'not-equal' where waiting is allowed
      this.canWait = true;
    } catch {
      this.canWait = false; // a page's main thread: spin instead
    }
    for (let index = 1; index < threads; index++) {
      const w = spawnHelper(HELPER_SOURCE, index);
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

  /** Stop the helper threads (an engine made for a test; the process-wide one lives on). */
  close(): void {
    for (const w of this.helpers.splice(0)) w.terminate();
    if (this.control)
      for (let i = 1; i < MAX_THREADS; i++) Atomics.store(this.control, READY + i, 0);
  }

  /** Start counting where the time of the following calls goes (see EngineProfile). */
  startProfile(): void {
    this.profile = emptyProfile();
    if (this.control) Atomics.store(this.control, C.profiling, 1);
  }

  /** Stop counting; what was counted since startProfile (null if it was not called). */
  stopProfile(): EngineProfile | null {
    const p = this.profile;
    this.profile = null;
    if (this.control) Atomics.store(this.control, C.profiling, 0);
    return p;
  }

  /**
   * How long (µs) a helper spins for the next job after finishing one before it blocks in
   * Atomics.wait (0: it blocks at once). Spinning keeps it awake between the jobs of one forward;
   * the bound keeps an idle page idle.
   */
  get spinMicros(): number {
    return this.control ? this.control[C.spinUs] : 0;
  }

  set spinMicros(us: number) {
    if (this.control) Atomics.store(this.control, C.spinUs, Math.max(0, Math.round(us)));
  }

  /** Units of work (panels, heads) the helper threads have run so far. */
  get helperUnits(): number {
    return this.control ? Atomics.load(this.control, 25) : 0;
  }

  /** Helper threads started (threads() counts those ready). */
  get helperCount(): number {
    return this.helpers.length;
  }

  /** Threads a product can use now: this one and the helpers ready so far (in order). */
  get threads(): number {
    const ctl = this.control;
    let t = 1;
    while (ctl && t < MAX_THREADS && Atomics.load(ctl, READY + t) === 1) t++;
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
   * Pack a Linear layer: `weight` [out, in] row-major (the PyTorch layout) as float32 values or
   * float16 bits (kept as float16: half the memory, widened in the kernel), `bias` [out] float32.
   * Free it with unpack().
   */
  pack(
    weight: Float32Array | Uint16Array,
    bias: Float32Array,
    out: number,
    inF: number,
  ): PackedGemm {
    const dtype = weight instanceof Uint16Array ? 'f16' : 'f32';
    const { kPad, panels } = gemmPanelLayout(inF, out);
    const w = this.alloc(weightBytes(dtype, panels, kPad));
    const view = dtype === 'f16' ? new Uint16Array(this.memory.buffer) : this.f32();
    scatterPanels(view, w.offset / view.BYTES_PER_ELEMENT, weight, out, inF, kPad);
    return this.withBias(w, bias, { inF, out, kPad, panels, dtype, scalesOffset: 0 });
  }

  /**
   * Pack a Linear layer with symmetric per-output-row int8 weights (W[n, k] = q[n, k] ·
   * scales[n], the layout of kernels/types.ts' Int8LinearWeights): the bytes are copied into
   * panels as they are (one byte per weight, the float16 panel order) and the scales after them,
   * with no float32 copy of the matrix anywhere. Free it with unpack().
   */
  packInt8(weight: Int8Rows, bias: Float32Array, out: number, inF: number): PackedGemm {
    const { int8, scales } = weight;
    if (int8.length !== out * inF || scales.length !== out) {
      throw new RangeError(
        `WASM GEMM int8: ${int8.length} values and ${scales.length} scales for [${out}, ${inF}]`,
      );
    }
    const { kPad, panels } = gemmPanelLayout(inF, out);
    const w = this.alloc(weightBytes('i8', panels, kPad));
    scatterPanels(new Int8Array(this.memory.buffer), w.offset, int8, out, inF, kPad);
    const scalesOffset = w.offset + panels * kPad * 8;
    const f = this.f32();
    f.fill(0, scalesOffset / 4, scalesOffset / 4 + panels * 8);
    f.set(scales, scalesOffset / 4);
    return this.withBias(w, bias, { inF, out, kPad, panels, dtype: 'i8', scalesOffset });
  }

  /** The padded bias after a packed weight block `w`, and the record of both. */
  private withBias(
    w: Block,
    bias: Float32Array,
    l: Pick<PackedGemm, 'kPad' | 'panels' | 'dtype' | 'scalesOffset'> & {
      inF: number;
      out: number;
    },
  ): PackedGemm {
    const b = this.alloc(l.panels * 32);
    const f = this.f32();
    f.fill(0, b.offset / 4, b.offset / 4 + l.panels * 8);
    f.set(bias.subarray(0, l.out), b.offset / 4);
    this.heldBytes += w.bytes + b.bytes;
    return {
      inFeatures: l.inF,
      outFeatures: l.out,
      kPad: l.kPad,
      panels: l.panels,
      weightOffset: w.offset,
      biasOffset: b.offset,
      bytes: w.bytes + b.bytes,
      dtype: l.dtype,
      scalesOffset: l.scalesOffset,
      released: false,
    };
  }

  /** Give a packed layer's memory back (idempotent). */
  unpack(p: PackedGemm): void {
    if (p.released) return;
    p.released = true;
    const wBytes = weightBytes(p.dtype, p.panels, p.kPad);
    this.release({ offset: p.weightOffset, bytes: Math.ceil(wBytes / ALIGN) * ALIGN });
    this.release({ offset: p.biasOffset, bytes: Math.ceil((p.panels * 32) / ALIGN) * ALIGN });
    this.heldBytes -= p.bytes;
  }

  /** A scratch area of at least `bytes` (reused by every call; valid until the next one). */
  private scratchArea(bytes: number): number {
    if (this.scratch.bytes < bytes) {
      if (this.scratch.bytes) this.release(this.scratch);
      this.scratch = this.alloc(Math.max(bytes, 2 * this.scratch.bytes));
    }
    return this.scratch.offset;
  }

  /**
   * Run a job of `units` on the helpers and this thread (see CONTROL), or on this thread alone
   * when `threads` is 1. `args` go to control [2..], `floats` are the indices among them that
   * are float32.
   */
  private runJob(
    kind: 0 | 1,
    args: number[],
    floats: number[],
    units: number,
    threads: number,
    sStride = 0,
  ): void {
    const ctl = this.control;
    const ctlF = this.controlF;
    const prof = this.profile;
    const t0 = prof ? performance.now() : 0;
    if (threads <= 1 || !ctl || !ctlF || units < 2 || units > 0xffff) {
      this.runAlone(kind, args, units);
      if (prof) {
        prof.singleJobs++;
        prof.singleMs += performance.now() - t0;
      }
      return;
    }
    args.forEach((v, i) => {
      if (floats.includes(i)) ctlF[C.args + i] = v;
      else ctl[C.args + i] = v;
    });
    ctl[C.kind] = kind;
    ctl[C.units] = units;
    ctl[C.chunk] = Math.max(1, Math.ceil(units / (threads * CLAIMS_PER_THREAD)));
    ctl[C.sStride] = sStride;
    Atomics.store(ctl, C.done, 0);
    const stamps = this.stamps!;
    const helperUnits0 = prof ? Atomics.load(ctl, C.helperUnits) : 0;
    if (prof) {
      stamps.fill(0, 1, threads);
      stamps[0] = performance.timeOrigin + performance.now();
    }
    this.job = (this.job + 1) & 0x7fffffff;
    Atomics.store(ctl, C.claim, (this.job & 0xffff) << 16);
    Atomics.store(ctl, C.job, this.job);
    Atomics.notify(ctl, C.job, threads - 1);
    workOnJob(this.ex, ctl, ctlF, 0, stamps);
    const t1 = prof ? performance.now() : 0;
    // Only chunks a helper already claimed are left: wait for them (block where allowed).
    for (let spins = 0; ; spins++) {
      const done = Atomics.load(ctl, C.done);
      if (done >= units) break;
      if (this.canWait && spins > 64) Atomics.wait(ctl, C.done, done, 1);
    }
    if (prof) {
      const t2 = performance.now();
      if (kind === 0) {
        prof.gemmJobs++;
        prof.gemmMs += t2 - t0;
      } else {
        prof.attentionJobs++;
        prof.attentionMs += t2 - t0;
      }
      prof.callerWorkMs += t1 - t0;
      prof.callerWaitMs += t2 - t1;
      prof.units += units;
      prof.helperUnits += Atomics.load(ctl, C.helperUnits) - helperUnits0;
      if (stamps[1] > 0) prof.wakeUs.push((stamps[1] - stamps[0]) * 1000);
      else prof.helperMissed++;
    }
  }

  /** A job on this thread alone. */
  private runAlone(kind: 0 | 1, args: number[], units: number): void {
    const rows = args[10];
    if (kind === 0 && args[8] === 0) this.ex['gemm' + rows](...args.slice(0, 7), 0, units, args[7]);
    else if (kind === 0 && args[8] === JOB_DTYPE.i8)
      this.ex['gemm_i8_' + rows](...args.slice(0, 7), 0, units, args[7], args[9], args[11]);
    else if (kind === 0)
      this.ex['gemm_f16_' + rows](...args.slice(0, 7), 0, units, args[7], args[9]);
    else this.ex.attention(...args.slice(0, 15), 0, units);
  }

  /** Add the time since `t0` (performance.now()) to a part of the profile, when profiling. */
  count(part: ProfilePart, t0: number): void {
    if (this.profile) this.profile[part] += performance.now() - t0;
  }

  /** Copy row-major [m, cols] `x` into memory at byte `at` with rows `ld` floats apart. */
  private put(x: Float32Array, m: number, cols: number, at: number, ld: number): void {
    const t0 = performance.now();
    const f = this.f32();
    if (ld === cols) f.set(x.subarray(0, m * cols), at / 4);
    else {
      for (let i = 0; i < m; i++) {
        f.set(x.subarray(i * cols, (i + 1) * cols), at / 4 + i * ld);
        f.fill(0, at / 4 + i * ld + cols, at / 4 + (i + 1) * ld);
      }
    }
    this.count('copyInMs', t0);
  }

  /**
   * Rows [m, cols] read out of memory at byte `at`, rows `ld` floats apart: a copy, or with
   * `view` (and rows packed) a view of the memory, valid until the next call. A fresh array per
   * call costs ~100× the copy itself (allocation, first touch): views let the caller copy once,
   * into memory it already has (tensor_io.ts).
   */
  private take(m: number, cols: number, at: number, ld: number, view: boolean): Float32Array {
    const t0 = performance.now();
    const f = this.f32();
    let y: Float32Array;
    if (ld === cols && view) y = f.subarray(at / 4, at / 4 + m * cols);
    else if (ld === cols) y = f.slice(at / 4, at / 4 + m * cols);
    else {
      y = new Float32Array(m * cols);
      for (let i = 0; i < m; i++)
        y.set(f.subarray(at / 4 + i * ld, at / 4 + i * ld + cols), i * cols);
    }
    this.count('copyOutMs', t0);
    return y;
  }

  /** A, then C, in scratch, with `extra` bytes after C; returns their byte offsets. */
  private gemmInto(x: Float32Array, m: number, p: PackedGemm, act: number, extra = 0) {
    if (p.released) throw new Error('WASM GEMM: this layer was released');
    const { inFeatures: inF, kPad, panels } = p;
    const ldc = panels * 8;
    const aBytes = Math.ceil((m * kPad * 4) / ALIGN) * ALIGN;
    const cBytes = Math.ceil((m * ldc * 4) / ALIGN) * ALIGN;
    const threads = m * kPad * ldc >= this.minParallelMacs ? this.threads : 1;
    // float16 weights: one float32 panel buffer per thread after `extra`
    const tmpStride = p.dtype !== 'f32' ? Math.ceil((kPad * 32) / ALIGN) * ALIGN : 0;
    const a = this.scratchArea(aBytes + cBytes + extra + threads * tmpStride);
    const c = a + aBytes;
    this.put(x, m, inF, a, kPad);
    const tmp = c + cBytes + extra;
    const dtype = JOB_DTYPE[p.dtype];
    const rows = tileRowsFor(m);
    const args = [a, p.weightOffset, p.biasOffset, c, m, kPad, ldc, act, dtype, tmp, rows];
    if (p.dtype === 'i8') args.push(p.scalesOffset);
    this.runJob(0, args, [], panels, threads, tmpStride);
    return { c, ldc, rest: c + cBytes };
  }

  /**
   * x [m, in] row-major → act(x · Wᵀ + bias), [m, out] row-major; act 'gelu' runs in the
   * kernel's epilogue (GEMM_ACT), anything else is the caller's.
   */
  run(
    x: Float32Array,
    m: number,
    p: PackedGemm,
    act: 'linear' | 'gelu' = 'linear',
    { view = false }: ResultOptions = {},
  ): Float32Array {
    const t0 = performance.now();
    const { c, ldc } = this.gemmInto(x, m, p, GEMM_ACT[act]);
    const y = this.take(m, p.outFeatures, c, ldc, view);
    this.count('engineMs', t0);
    return y;
  }

  /**
   * LayerNorm(x · Wᵀ + bias + residual) · gamma + beta, [m, out] row-major, out a multiple of 4:
   * the dense, the residual add and the LayerNorm in one call (HF LxmertAttentionOutput).
   */
  denseAddLayerNorm(
    x: Float32Array,
    m: number,
    p: PackedGemm,
    residual: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    eps: number,
    { view = false }: ResultOptions = {},
  ): Float32Array {
    const n = p.outFeatures;
    if (n % 4 !== 0) throw new RangeError(`WASM add_layer_norm: width ${n} is not a multiple of 4`);
    const t0 = performance.now();
    const rBytes = Math.ceil((m * n * 4) / ALIGN) * ALIGN;
    const vBytes = Math.ceil((n * 4) / ALIGN) * ALIGN;
    const { c, ldc, rest } = this.gemmInto(x, m, p, GEMM_ACT.linear, 2 * rBytes + 2 * vBytes);
    const [r, out, g, b] = [rest, rest + rBytes, rest + 2 * rBytes, rest + 2 * rBytes + vBytes];
    const t1 = performance.now();
    const f = this.f32();
    f.set(residual.subarray(0, m * n), r / 4);
    f.set(gamma.subarray(0, n), g / 4);
    f.set(beta.subarray(0, n), b / 4);
    this.count('copyInMs', t1);
    const t2 = performance.now();
    this.ex.add_layer_norm(c, ldc, r, g, b, out, m, n, eps);
    this.count('addLayerNormMs', t2);
    const y = this.take(m, n, out, n, view);
    this.count('engineMs', t0);
    return y;
  }

  /**
   * Multi-head attention, softmax(q·kᵀ/√dh + mask)·v per batch row and head, in the module:
   * q [b, lq, ·], k and v [b, lk, ·] (column ranges of width h = heads · dh, dh a multiple of
   * 4), mask [b, lk] additive or null → context [b, lq, h]. Heads are split across threads.
   */
  attention(
    q: AttentionOperand,
    k: AttentionOperand,
    v: AttentionOperand,
    mask: Float32Array | null,
    shape: { b: number; lq: number; lk: number; heads: number; h: number },
    { view = false }: ResultOptions = {},
  ): Float32Array {
    const { b, lq, lk, heads, h } = shape;
    const dh = h / heads;
    if (dh % 4 !== 0 || !Number.isInteger(dh)) {
      throw new RangeError(`WASM attention: head width ${dh} is not a multiple of 4`);
    }
    const sources = [q.data, k.data, v.data].filter((d, i, all) => all.indexOf(d) === i);
    const round = (n: number) => Math.ceil((n * 4) / ALIGN) * ALIGN;
    const outBytes = round(b * lq * h);
    const maskBytes = mask ? round(b * lk) : 0;
    const sStride = round(lk + 4);
    const sizes = sources.map((d) => round(d.length));
    const macs = 2 * b * heads * lq * lk * dh;
    const threads = macs >= this.minParallelMacs ? Math.min(this.threads, b * heads) : 1;
    const t0 = performance.now();
    const total = sizes.reduce((x, y) => x + y, 0) + outBytes + maskBytes + threads * sStride;
    let at = this.scratchArea(total);
    const f = this.f32();
    const where = new Map<Float32Array, number>();
    sources.forEach((d, i) => {
      f.set(d, at / 4);
      where.set(d, at);
      at += sizes[i];
    });
    const out = at;
    const m = mask ? out + outBytes : 0;
    if (mask) f.set(mask.subarray(0, b * lk), m / 4);
    this.count('copyInMs', t0);
    const s = out + outBytes + maskBytes;
    const addr = (o: AttentionOperand) => where.get(o.data)! + o.offset * 4;
    const args = [addr(q), addr(k), addr(v), m, out, s, lq, lk, q.ld, k.ld, v.ld, h, dh, heads];
    args.push(1 / Math.sqrt(dh));
    this.runJob(1, args, [14], b * heads, threads, sStride);
    const y = this.take(b * lq, h, out, h, view);
    this.count('engineMs', t0);
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
  return (engine = createGemmEngine(isa, threadCount()));
}

/**
 * A new engine running the `isa` kernel on `threads` threads (the module built for shared memory
 * when > 1; helpers started by `spawnHelper`, by default Blob workers). gemmEngine() is the
 * process-wide one; tests and benchmarks make their own.
 */
export function createGemmEngine(
  isa: 'relaxed-simd' | 'simd128',
  threads = 1,
  spawnHelper?: (source: string, index: number) => HelperThread,
): GemmEngine {
  const bytes = gemmModuleBytes({
    relaxed: isa === 'relaxed-simd',
    shared: threads > 1,
    maxPages: MAX_PAGES,
  });
  return new GemmEngine(new WebAssembly.Module(bytes), isa, threads, spawnHelper);
}
