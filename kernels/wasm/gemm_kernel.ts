/**
 * The WASM GEMM kernel and the layer ops around it, generated as one module (module_builder.ts):
 *
 *   gemm{4,6}(a, bp, bias, c, M, K, ldc, p0, p1, act)   (ROWS-row register tiles)
 *   C[m, 8p + j] = act(bias[8p + j] + Σ_k A[m, k] · B[k, 8p + j])   panels p in [p0, p1), all m
 *   (act 0: identity, 1: the exact-erf GELU, erf as a rational minimax fit, |error| < 4e-7)
 *
 *   gemm_f16_ROWS(…, tmp), gemm_i8_ROWS(…, tmp, scales)   B as float16 bits / int8 values,
 *   each panel widened into the thread's float32 buffer `tmp` first (int8: times the panel's 8
 *   column scales at `scales + p·32`, so B[k, n] = q[n, k] · scales[n])
 *
 *   add_layer_norm(x, ldx, r, g, b, out, M, N, eps)  out = LayerNorm(x + r) row by row
 *
 *   attention(q, k, v, mask, out, s, Lq, Lk, ldq, ldk, ldv, ldo, dh, heads, scale, u0, u1)
 *   softmax(scale · q·kᵀ + mask) · v for units u = n·heads + head in [u0, u1)
 *
 * A is [M, K] row-major float32 (K a multiple of GEMM_K_MULTIPLE), B is packed in panels of 8
 * output columns (`bp + p·K·32` holds B[k, 8p..8p+8] for k = 0..K-1, one 32-byte row per k),
 * bias and C are padded to whole panels (C row stride `ldc` floats). Rows go ROWS at a time
 * (2·ROWS v128 accumulators; k unrolled by 2 in 4-row tiles, by 4 in taller ones), then one at
 * a time. The multiply-add is f32x4.relaxed_madd (a fused
 * multiply-add where the CPU has one) in the relaxed-SIMD build, f32x4.mul + f32x4.add in the
 * SIMD128 build. All offsets are byte offsets into the imported memory.
 */
import { buildModule, FunctionBuilder } from './module_builder.js';

/** Values of `act` in gemm(). */
export const GEMM_ACT = { linear: 0, gelu: 1 } as const;

/**
 * Rows per register tile (ROWS × 8 accumulators in 2·ROWS v128 locals): one GEMM export per
 * count (gemm4, gemm5, gemm6; gemm_f16_4, …), the engine picks the one that leaves fewest rows
 * to the one-row loop, then the taller (36 rows: 6, 20 rows: 5, 56 rows: 4). Measured on the
 * lxmert-base shapes (BENCHMARKS.md, issue 11): 6-row tiles beat 4 at 36 rows; with k unrolled
 * by 4, 5-row tiles at 20 rows beat 4-row ones by 7–12% in Node (SIMD128) and tie in Chromium.
 */
export const GEMM_TILE_ROWS = [4, 5, 6] as const;
const TILE_ROWS = 4;
/** k per loop iteration in tiles of more than 4 rows (4-row tiles take k two at a time). */
const TALL_K_UNROLL = 4;
/** K must be a multiple of this (the engine pads A's rows and B's panels with zeros). */
export const GEMM_K_MULTIPLE = 4;
/** Output columns per packed B panel. */
export const GEMM_PANEL_COLUMNS = 8;

/**
 * The packed layout of a Linear layer [out, inF]: K as the kernel takes it (inF padded with zero
 * rows) and the number of panels (out padded with zero columns).
 */
export function gemmPanelLayout(inF: number, out: number): { kPad: number; panels: number } {
  return {
    kPad: Math.ceil(inF / GEMM_K_MULTIPLE) * GEMM_K_MULTIPLE,
    panels: Math.ceil(out / GEMM_PANEL_COLUMNS),
  };
}

/** The tile height for an M-row product: fewest leftover rows, then the taller tile. */
export function tileRowsFor(m: number): number {
  let best = 4;
  for (const r of GEMM_TILE_ROWS) if (m % r <= m % best) best = r;
  return best;
}
const V128 = { align: 4, offset: 0 };
const at = (offset: number, align = 4) => ({ align, offset });

/** acc += av · bv, leaving nothing on the stack. */
function madd(f: FunctionBuilder, relaxed: boolean, av: string, bv: string, acc: string): void {
  if (relaxed) {
    f.get(av).get(bv).get(acc).simd('f32x4.relaxed_madd').set(acc);
  } else {
    f.get(acc).get(av).get(bv).simd('f32x4.mul').simd('f32x4.add').set(acc);
  }
}

/** Splat of a float32 constant onto the stack. */
function splat(f: FunctionBuilder, v: number): void {
  f.f32(v).simd('f32x4.splat');
}

/** Eigen's erf fit (generic_fast_erf_float): erf(t) ≈ t·P(t²)/Q(t²) on t ∈ [-4, 4]. */
const ERF_P = [
  -2.72614225801306e-10, 2.77068142495902e-8, -2.10102402082508e-6, -5.69250639462346e-5,
  -7.34990630326855e-4, -2.95459980854025e-3, -1.60960333262415e-2,
];
const ERF_Q = [
  -1.45660718464996e-5, -2.13374055278905e-4, -1.68282697438203e-3, -7.37332916720468e-3,
  -1.42647390514189e-2,
];
const GELU_TEMPS = ['gt', 'gt2', 'gp', 'gq', 'gh'];

/** Horner: acc = ((c0·x + c1)·x + …), acc and x locals. */
function horner(f: FunctionBuilder, coefficients: number[], x: string, acc: string): void {
  splat(f, coefficients[0]);
  f.set(acc);
  for (const c of coefficients.slice(1)) {
    f.get(acc).get(x).simd('f32x4.mul');
    splat(f, c);
    f.simd('f32x4.add').set(acc);
  }
}

/** v = 0.5·v·(1 + erf(v/√2)) in place (locals GELU_TEMPS). */
export function gelu(f: FunctionBuilder, v: string): void {
  f.get(v);
  splat(f, Math.SQRT1_2);
  f.simd('f32x4.mul');
  splat(f, -4);
  f.simd('f32x4.max');
  splat(f, 4);
  f.simd('f32x4.min').set('gt');
  f.get('gt').get('gt').simd('f32x4.mul').set('gt2');
  horner(f, ERF_P, 'gt2', 'gp');
  horner(f, ERF_Q, 'gt2', 'gq');
  f.get(v);
  splat(f, 0.5);
  f.simd('f32x4.mul').set('gh');
  f.get('gh').get('gh').get('gp').get('gt').simd('f32x4.mul').get('gq').simd('f32x4.div');
  f.simd('f32x4.mul').simd('f32x4.add').set(v);
}

/** GELU on the accumulators when act = 1. */
function geluIfAsked(f: FunctionBuilder, accs: string[]): void {
  f.op('block');
  f.get('act').op('i32.eqz').branch('br_if', 0);
  for (const a of accs) gelu(f, a);
  f.op('end');
}

/** c + ((row · ldc) << 2) + (p << 5): the byte address of C[row, 8p]. */
function cAddress(f: FunctionBuilder, row: () => void): void {
  f.get('c');
  row();
  f.get('ldc').op('i32.mul').i32(2).op('i32.shl');
  f.get('p').i32(5).op('i32.shl').op('i32.add').op('i32.add');
}

/**
 * v = float32 of the float16 bits in v's int32 lanes: magnitude shifted into place and scaled by
 * 2^112 (exact for normals and subnormals; weights hold no inf/NaN), sign or-ed back.
 */
function halfToFloat(f: FunctionBuilder, v: string): void {
  f.get(v).i32(0x7fff).simd('i32x4.splat').simd('v128.and').i32(13).simd('i32x4.shl');
  splat(f, 2 ** 112);
  f.simd('f32x4.mul');
  f.get(v).i32(0x8000).simd('i32x4.splat').simd('v128.and').i32(16).simd('i32x4.shl');
  f.simd('v128.or').set(v);
}

/**
 * The GEMM; `f16`: B holds float16 bits (panels of K·16 bytes), each panel widened into the
 * calling thread's float32 buffer `tmp` (K·32 bytes, stays in L1/L2) before the row tiles run
 * on it (export gemm_f16, one more parameter).
 */
function gemmFunction(
  relaxed: boolean,
  f16 = false,
  ROWS = TILE_ROWS,
  i8 = false,
): FunctionBuilder {
  const name = i8 ? 'gemm_i8_' : f16 ? 'gemm_f16_' : 'gemm';
  const f = new FunctionBuilder(`${name}${ROWS}`, [
    ['a', 'i32'],
    ['bp', 'i32'],
    ['bias', 'i32'],
    ['c', 'i32'],
    ['M', 'i32'],
    ['K', 'i32'],
    ['ldc', 'i32'],
    ['p0', 'i32'],
    ['p1', 'i32'],
    ['act', 'i32'],
    ...(f16 || i8 ? [['tmp', 'i32'] as [string, 'i32']] : []),
    ...(i8 ? [['scales', 'i32'] as [string, 'i32']] : []),
  ]);
  for (const n of ['p', 'i', 'k', 'pb', 'panel', 'rowb', 'pc', 'ca']) f.local(n, 'i32');
  if (f16 || i8) f.local('hw', 'v128').local('hv', 'v128');
  if (i8) f.local('s0', 'v128').local('s1', 'v128');
  for (const n of GELU_TEMPS) f.local(n, 'v128');
  for (const n of ['b0', 'b1', 'b2', 'b3', 'av', 'bi0', 'bi1']) f.local(n, 'v128');
  for (let r = 0; r < ROWS; r++)
    f.local(`pa${r}`, 'i32').local(`c${r}0`, 'v128').local(`c${r}1`, 'v128');

  f.get('K').i32(2).op('i32.shl').set('rowb'); // bytes per A row
  f.get('K').i32(5).op('i32.shl').set('panel'); // bytes per B panel
  f.get('p0').set('p');
  f.op('block').op('loop'); // panels
  f.get('p').get('p1').op('i32.ge_u').branch('br_if', 1);
  f.get('bias').get('p').i32(5).op('i32.shl').op('i32.add').tee('pc');
  f.simd('v128.load', V128).set('bi0');
  f.get('pc').simd('v128.load', at(16)).set('bi1');
  if (i8) {
    widenInt8Panel(f);
  } else if (f16) {
    // widen panel p (K rows of 8 halves) into tmp
    f.get('bp').get('p').get('K').i32(4).op('i32.shl').op('i32.mul').op('i32.add').set('pb');
    f.get('tmp').set('pc');
    f.get('K').set('k');
    f.op('loop');
    f.get('pb').simd('v128.load', V128).tee('hw').simd('i32x4.extend_low_i16x8_u').set('hv');
    halfToFloat(f, 'hv');
    f.get('pc').get('hv').simd('v128.store', V128);
    f.get('hw').simd('i32x4.extend_high_i16x8_u').set('hv');
    halfToFloat(f, 'hv');
    f.get('pc').get('hv').simd('v128.store', at(16));
    f.get('pb').i32(16).op('i32.add').set('pb');
    f.get('pc').i32(32).op('i32.add').set('pc');
    f.get('k').i32(1).op('i32.sub').tee('k').branch('br_if', 0);
    f.op('end');
    f.get('tmp').set('pc');
  } else {
    f.get('bp').get('p').get('panel').op('i32.mul').op('i32.add').set('pc'); // panel start
  }
  f.i32(0).set('i');

  // rows in tiles of ROWS
  f.op('block').op('loop');
  f.get('i').i32(ROWS).op('i32.add').get('M').op('i32.gt_u').branch('br_if', 1);
  for (let r = 0; r < ROWS; r++) {
    f.get('bi0').set(`c${r}0`).get('bi1').set(`c${r}1`);
    f.get('a').get('i').i32(r).op('i32.add').get('rowb').op('i32.mul').op('i32.add').set(`pa${r}`);
  }
  f.get('pc').set('pb');
  const kStep = ROWS <= 4 ? 2 : TALL_K_UNROLL;
  f.get('K').i32(Math.log2(kStep)).op('i32.shr_u').set('k');
  f.op('loop'); // k, kStep at a time
  if (ROWS <= 4) {
    // all four B vectors of k and k+1 live at once: 2·ROWS + 5 ≤ 13 v128 registers
    f.get('pb').simd('v128.load', V128).set('b0');
    f.get('pb').simd('v128.load', at(16)).set('b1');
    f.get('pb').simd('v128.load', at(32)).set('b2');
    f.get('pb').simd('v128.load', at(48)).set('b3');
    for (let r = 0; r < ROWS; r++) {
      f.get(`pa${r}`).simd('v128.load32_splat', at(0, 2)).set('av');
      madd(f, relaxed, 'av', 'b0', `c${r}0`);
      madd(f, relaxed, 'av', 'b1', `c${r}1`);
      f.get(`pa${r}`).simd('v128.load32_splat', at(4, 2)).set('av');
      madd(f, relaxed, 'av', 'b2', `c${r}0`);
      madd(f, relaxed, 'av', 'b3', `c${r}1`);
      f.get(`pa${r}`).i32(8).op('i32.add').set(`pa${r}`);
    }
  } else {
    // taller tiles: k, k+1, … one at a time, two B vectors live (2·ROWS + 3 ≤ 15 of x64's 16
    // registers); TALL_K_UNROLL k per iteration
    for (let u = 0; u < TALL_K_UNROLL; u++) {
      f.get('pb')
        .simd('v128.load', at(32 * u))
        .set('b0');
      f.get('pb')
        .simd('v128.load', at(32 * u + 16))
        .set('b1');
      for (let r = 0; r < ROWS; r++) {
        f.get(`pa${r}`)
          .simd('v128.load32_splat', at(4 * u, 2))
          .set('av');
        madd(f, relaxed, 'av', 'b0', `c${r}0`);
        madd(f, relaxed, 'av', 'b1', `c${r}1`);
      }
    }
    for (let r = 0; r < ROWS; r++)
      f.get(`pa${r}`)
        .i32(4 * TALL_K_UNROLL)
        .op('i32.add')
        .set(`pa${r}`);
  }
  f.get('pb')
    .i32(32 * kStep)
    .op('i32.add')
    .set('pb');
  f.get('k').i32(1).op('i32.sub').tee('k').branch('br_if', 0);
  f.op('end');
  for (let r = 0; r < ROWS; r++) {
    geluIfAsked(f, [`c${r}0`, `c${r}1`]);
    cAddress(f, () => f.get('i').i32(r).op('i32.add'));
    f.tee('ca').get(`c${r}0`).simd('v128.store', V128);
    f.get('ca').get(`c${r}1`).simd('v128.store', at(16));
  }
  f.get('i').i32(ROWS).op('i32.add').set('i');
  f.branch('br', 0);
  f.op('end').op('end');

  // the remaining rows, one at a time
  f.op('block').op('loop');
  f.get('i').get('M').op('i32.ge_u').branch('br_if', 1);
  f.get('bi0').set('c00').get('bi1').set('c01');
  f.get('a').get('i').get('rowb').op('i32.mul').op('i32.add').set('pa0');
  f.get('pc').set('pb');
  f.get('K').set('k');
  f.op('loop');
  f.get('pa0').simd('v128.load32_splat', at(0, 2)).set('av');
  f.get('pb').simd('v128.load', V128).set('b0');
  f.get('pb').simd('v128.load', at(16)).set('b1');
  madd(f, relaxed, 'av', 'b0', 'c00');
  madd(f, relaxed, 'av', 'b1', 'c01');
  f.get('pa0').i32(4).op('i32.add').set('pa0');
  f.get('pb').i32(32).op('i32.add').set('pb');
  f.get('k').i32(1).op('i32.sub').tee('k').branch('br_if', 0);
  f.op('end');
  geluIfAsked(f, ['c00', 'c01']);
  cAddress(f, () => f.get('i'));
  f.tee('ca').get('c00').simd('v128.store', V128);
  f.get('ca').get('c01').simd('v128.store', at(16));
  f.get('i').i32(1).op('i32.add').set('i');
  f.branch('br', 0);
  f.op('end').op('end');

  f.get('p').i32(1).op('i32.add').set('p');
  f.branch('br', 0);
  f.op('end').op('end');
  return f;
}

/**
 * gemm_i8's panel step: panel p of int8 B (K rows of 8 bytes, `bp + p·K·8`) into the thread's
 * float32 buffer `tmp`, each byte i8 → i16 → i32 → f32 and times its column's scale
 * (`scales + p·32`: 8 float32), so the row tiles read B[k, n] = q[n, k] · scales[n] (the
 * dequantized weight, rounded once as on the tf-op path); leaves `pc` = tmp.
 */
function widenInt8Panel(f: FunctionBuilder): void {
  f.get('scales').get('p').i32(5).op('i32.shl').op('i32.add').tee('pb');
  f.simd('v128.load', V128).set('s0');
  f.get('pb').simd('v128.load', at(16)).set('s1');
  f.get('bp').get('p').get('K').i32(3).op('i32.shl').op('i32.mul').op('i32.add').set('pb');
  f.get('tmp').set('pc');
  f.get('K').set('k');
  f.op('loop');
  f.get('pb').simd('v128.load8x8_s', at(0, 3)).tee('hw');
  f.simd('i32x4.extend_low_i16x8_s').simd('f32x4.convert_i32x4_s').get('s0').simd('f32x4.mul');
  f.set('hv');
  f.get('pc').get('hv').simd('v128.store', V128);
  f.get('hw').simd('i32x4.extend_high_i16x8_s').simd('f32x4.convert_i32x4_s');
  f.get('s1').simd('f32x4.mul').set('hv');
  f.get('pc').get('hv').simd('v128.store', at(16));
  f.get('pb').i32(8).op('i32.add').set('pb');
  f.get('pc').i32(32).op('i32.add').set('pc');
  f.get('k').i32(1).op('i32.sub').tee('k').branch('br_if', 0);
  f.op('end');
  f.get('tmp').set('pc');
}

/** h = lane0 + lane1 + lane2 + lane3 of v128 local `v`, left on the stack (f32). */
function hsum(f: FunctionBuilder, v: string): void {
  f.get(v).lane(0).get(v).lane(1).op('f32.add').get(v).lane(2).op('f32.add');
  f.get(v).lane(3).op('f32.add');
}

/** `for (var = 0; var < limit; var += step) body()` (i32 locals; limit a local). */
function forLoop(
  f: FunctionBuilder,
  v: string,
  limit: string,
  step: number,
  body: () => void,
): void {
  f.i32(0).set(v);
  f.op('block').op('loop');
  f.get(v).get(limit).op('i32.ge_u').branch('br_if', 1);
  body();
  f.get(v).i32(step).op('i32.add').set(v);
  f.branch('br', 0);
  f.op('end').op('end');
}

/** `while (!exit()) body()`: `exit` leaves an i32 condition on the stack. */
function whileLoop(f: FunctionBuilder, exit: () => void, body: () => void): void {
  f.op('block').op('loop');
  exit();
  f.branch('br_if', 1);
  body();
  f.branch('br', 0);
  f.op('end').op('end');
}

/**
 * add_layer_norm(x, ldx, r, g, b, out, M, N, eps): out[i] = LayerNorm(x[i] + r[i]) · g + b for
 * rows i < M (x rows `ldx` floats apart, r and out N apart; N a multiple of 4), biased variance
 * as torch.nn.LayerNorm, two passes over the sum (kept in out).
 */
function addLayerNormFunction(): FunctionBuilder {
  const f = new FunctionBuilder('add_layer_norm', [
    ['x', 'i32'],
    ['ldx', 'i32'],
    ['r', 'i32'],
    ['g', 'i32'],
    ['b', 'i32'],
    ['out', 'i32'],
    ['M', 'i32'],
    ['N', 'i32'],
    ['eps', 'f32'],
  ]);
  for (const n of ['i', 'j', 'nb', 'px', 'pr', 'po']) f.local(n, 'i32');
  for (const n of ['acc', 't', 'vm', 'vs']) f.local(n, 'v128');
  f.local('inv', 'f32');
  f.get('N').i32(2).op('i32.shl').set('nb');
  f.f32(1).get('N').op('f32.convert_i32_u').op('f32.div').set('inv');
  forLoop(f, 'i', 'M', 1, () => {
    f.get('x').get('i').get('ldx').op('i32.mul').i32(2).op('i32.shl').op('i32.add').set('px');
    f.get('i').get('nb').op('i32.mul').tee('po').get('r').op('i32.add').set('pr');
    f.get('po').get('out').op('i32.add').set('po');
    splat(f, 0);
    f.set('acc');
    forLoop(f, 'j', 'nb', 16, () => {
      f.get('px').get('j').op('i32.add').simd('v128.load', V128);
      f.get('pr').get('j').op('i32.add').simd('v128.load', V128);
      f.simd('f32x4.add').set('t');
      f.get('po').get('j').op('i32.add').get('t').simd('v128.store', V128);
      f.get('acc').get('t').simd('f32x4.add').set('acc');
    });
    hsum(f, 'acc');
    f.get('inv').op('f32.mul').simd('f32x4.splat').set('vm');
    splat(f, 0);
    f.set('acc');
    forLoop(f, 'j', 'nb', 16, () => {
      f.get('po').get('j').op('i32.add').simd('v128.load', V128).get('vm').simd('f32x4.sub');
      f.tee('t').get('t').simd('f32x4.mul').get('acc').simd('f32x4.add').set('acc');
    });
    f.f32(1);
    hsum(f, 'acc');
    f.get('inv').op('f32.mul').get('eps').op('f32.add').op('f32.sqrt').op('f32.div');
    f.simd('f32x4.splat').set('vs');
    forLoop(f, 'j', 'nb', 16, () => {
      f.get('po').get('j').op('i32.add'); // store address
      f.get('po').get('j').op('i32.add').simd('v128.load', V128).get('vm').simd('f32x4.sub');
      f.get('vs').simd('f32x4.mul');
      f.get('g').get('j').op('i32.add').simd('v128.load', V128).simd('f32x4.mul');
      f.get('b').get('j').op('i32.add').simd('v128.load', V128).simd('f32x4.add');
      f.simd('v128.store', V128);
    });
  });
  return f;
}

/** Cephes' expf polynomial on [-ln2/2, ln2/2]. */
const EXP_P = [
  1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
  5.0000001201e-1,
];

/** v = exp(v) in place, 4 lanes (locals ex, ey, ez), relative error ~1e-7, v clamped to ±87. */
function exp4(f: FunctionBuilder, v: string): void {
  f.get(v);
  splat(f, -87.33);
  f.simd('f32x4.max');
  splat(f, 87.33);
  f.simd('f32x4.min').tee(v);
  splat(f, Math.LOG2E);
  f.simd('f32x4.mul').simd('f32x4.nearest').set('ex');
  f.get(v).get('ex');
  splat(f, 0.693359375);
  f.simd('f32x4.mul').simd('f32x4.sub');
  f.get('ex');
  splat(f, -2.1219444e-4);
  f.simd('f32x4.mul').simd('f32x4.sub').tee(v);
  f.get(v).simd('f32x4.mul').set('ez');
  horner(f, EXP_P, v, 'ey');
  f.get('ey').get('ez').simd('f32x4.mul').get(v).simd('f32x4.add');
  splat(f, 1);
  f.simd('f32x4.add'); // polynomial, on the stack
  f.get('ex').simd('i32x4.trunc_sat_f32x4_s');
  f.i32(127).simd('i32x4.splat').simd('i32x4.add').i32(23).simd('i32x4.shl');
  f.simd('f32x4.mul').set(v);
}

/**
 * attention(q, k, v, mask, out, s, Lq, Lk, ldq, ldk, ldv, ldo, dh, heads, scale, u0, u1): for
 * units u = n·heads + h in [u0, u1) and query rows i, with q, k, v, out rows `ld*` floats apart
 * (batch n at n·L·ld), head h's columns at h·dh (dh a multiple of 4), mask [B, Lk] or 0 for none,
 * s a scratch row of Lk rounded up to 4 floats:
 *   s = scale · q[n, i, h]·k[n, :, h]ᵀ + mask[n];  out[n, i, h] = softmax(s) · v[n, :, h]
 */
function attentionFunction(): FunctionBuilder {
  const params: [string, 'i32' | 'f32'][] = [
    'q',
    'k',
    'v',
    'mask',
    'out',
    's',
    'Lq',
    'Lk',
    'ldq',
    'ldk',
    'ldv',
    'ldo',
    'dh',
    'heads',
  ].map((n) => [n, 'i32'] as [string, 'i32']);
  params.push(['scale', 'f32'], ['u0', 'i32'], ['u1', 'i32']);
  const f = new FunctionBuilder('attention', params);
  const ints = ['u', 'n', 'qb', 'kb', 'vb', 'ob', 'mb', 'i', 'j', 'd', 'pq', 'db', 'lk4'];
  for (const n of [...ints, 'pk0', 'pk1', 'pk2', 'pk3']) f.local(n, 'i32');
  for (const n of ['acc0', 'acc1', 'acc2', 'acc3', 'ex', 'ey', 'ez', 't']) f.local(n, 'v128');
  for (const n of ['mx', 'sum', 'x']) f.local(n, 'f32');
  /** base + ((n · L · ld + h · dh) << 2), h = u mod heads. */
  const rowBase = (base: string, len: string, ld: string, into: string) => {
    f.get(base).get('n').get(len).op('i32.mul').get(ld).op('i32.mul');
    f.get('u').get('heads').op('i32.rem_u').get('dh').op('i32.mul').op('i32.add');
    f.i32(2).op('i32.shl').op('i32.add').set(into);
  };
  f.get('dh').i32(2).op('i32.shl').set('db');
  f.get('Lk')
    .i32(3)
    .op('i32.add')
    .i32(-4 >>> 0)
    .op('i32.and')
    .set('lk4');
  f.get('u0').set('u');
  f.op('block').op('loop');
  f.get('u').get('u1').op('i32.ge_u').branch('br_if', 1);
  f.get('u').get('heads').op('i32.div_u').set('n');
  rowBase('q', 'Lq', 'ldq', 'qb');
  rowBase('k', 'Lk', 'ldk', 'kb');
  rowBase('v', 'Lk', 'ldv', 'vb');
  rowBase('out', 'Lq', 'ldo', 'ob');
  f.i32(0).set('mb');
  f.op('block');
  f.get('mask').op('i32.eqz').branch('br_if', 0);
  f.get('mask').get('n').get('Lk').op('i32.mul').i32(2).op('i32.shl').op('i32.add').set('mb');
  f.op('end');
  forLoop(f, 'i', 'Lq', 1, () => {
    f.get('qb').get('i').get('ldq').op('i32.mul').i32(2).op('i32.shl').op('i32.add').set('pq');
    f.f32(-Infinity).set('mx');
    // scores, four keys at a time (one q load serves four), then the remaining keys
    const score = (r: number, acc: string) => {
      hsum(f, acc);
      f.get('scale').op('f32.mul').set('x');
      f.op('block');
      f.get('mb').op('i32.eqz').branch('br_if', 0);
      f.get('x').get('mb').get('j').i32(r).op('i32.add').i32(2).op('i32.shl').op('i32.add');
      f.mem('f32.load').op('f32.add').set('x');
      f.op('end');
      f.get('s').get('j').i32(r).op('i32.add').i32(2).op('i32.shl').op('i32.add');
      f.get('x').mem('f32.store');
      f.get('mx').get('x').op('f32.max').set('mx');
    };
    f.i32(0).set('j');
    whileLoop(
      f,
      () => f.get('j').i32(4).op('i32.add').get('Lk').op('i32.gt_u'),
      () => {
        for (let r = 0; r < 4; r++) {
          f.get('kb').get('j').i32(r).op('i32.add').get('ldk').op('i32.mul');
          f.i32(2).op('i32.shl').op('i32.add').set(`pk${r}`);
          splat(f, 0);
          f.set(`acc${r}`);
        }
        forLoop(f, 'd', 'db', 16, () => {
          f.get('pq').get('d').op('i32.add').simd('v128.load', V128).set('t');
          for (let r = 0; r < 4; r++) {
            f.get('t').get(`pk${r}`).get('d').op('i32.add').simd('v128.load', V128);
            f.simd('f32x4.mul').get(`acc${r}`).simd('f32x4.add').set(`acc${r}`);
          }
        });
        for (let r = 0; r < 4; r++) score(r, `acc${r}`);
        f.get('j').i32(4).op('i32.add').set('j');
      },
    );
    whileLoop(
      f,
      () => f.get('j').get('Lk').op('i32.ge_u'),
      () => {
        f.get('kb').get('j').get('ldk').op('i32.mul').i32(2).op('i32.shl').op('i32.add');
        f.set('pk0');
        splat(f, 0);
        f.set('acc0');
        forLoop(f, 'd', 'db', 16, () => {
          f.get('pq').get('d').op('i32.add').simd('v128.load', V128);
          f.get('pk0').get('d').op('i32.add').simd('v128.load', V128);
          f.simd('f32x4.mul').get('acc0').simd('f32x4.add').set('acc0');
        });
        score(0, 'acc0');
        f.get('j').i32(1).op('i32.add').set('j');
      },
    );
    f.f32(0).set('sum');
    forLoop(f, 'j', 'lk4', 4, () => {
      f.get('s').get('j').i32(2).op('i32.shl').op('i32.add').simd('v128.load', V128);
      f.get('mx').simd('f32x4.splat').simd('f32x4.sub').set('t');
      exp4(f, 't');
      f.get('s').get('j').i32(2).op('i32.shl').op('i32.add').get('t').simd('v128.store', V128);
    });
    forLoop(f, 'j', 'Lk', 1, () => {
      f.get('sum').get('s').get('j').i32(2).op('i32.shl').op('i32.add').mem('f32.load');
      f.op('f32.add').set('sum');
    });
    f.f32(1).get('sum').op('f32.div').set('sum'); // 1 / Σ
    // context = Σ_j p_j · v_j, sixteen columns at a time, then four
    const pv = (width: number) => {
      for (let r = 0; r < width; r++) {
        splat(f, 0);
        f.set(`acc${r}`);
      }
      f.get('vb').get('d').op('i32.add').set('pk0');
      forLoop(f, 'j', 'Lk', 1, () => {
        f.get('s').get('j').i32(2).op('i32.shl').op('i32.add');
        f.simd('v128.load32_splat', at(0, 2)).set('t');
        for (let r = 0; r < width; r++) {
          f.get('t')
            .get('pk0')
            .simd('v128.load', at(16 * r))
            .simd('f32x4.mul');
          f.get(`acc${r}`).simd('f32x4.add').set(`acc${r}`);
        }
        f.get('pk0').get('ldv').i32(2).op('i32.shl').op('i32.add').set('pk0');
      });
      f.get('ob').get('i').get('ldo').op('i32.mul').i32(2).op('i32.shl').op('i32.add');
      f.get('d').op('i32.add').set('pk1');
      for (let r = 0; r < width; r++) {
        f.get('pk1').get(`acc${r}`).get('sum').simd('f32x4.splat').simd('f32x4.mul');
        f.simd('v128.store', at(16 * r));
      }
      f.get('d')
        .i32(16 * width)
        .op('i32.add')
        .set('d');
    };
    f.i32(0).set('d');
    whileLoop(
      f,
      () => f.get('d').i32(64).op('i32.add').get('db').op('i32.gt_u'),
      () => pv(4),
    );
    whileLoop(
      f,
      () => f.get('d').get('db').op('i32.ge_u'),
      () => pv(1),
    );
  });
  f.get('u').i32(1).op('i32.add').set('u');
  f.branch('br', 0);
  f.op('end').op('end');
  return f;
}

/** The GEMM module's bytes: relaxed-SIMD or SIMD128 arithmetic, shared memory or not. */
export function gemmModuleBytes(options: {
  relaxed: boolean;
  shared: boolean;
  maxPages: number;
}): Uint8Array<ArrayBuffer> {
  return buildModule(
    [
      ...GEMM_TILE_ROWS.map((rows) => gemmFunction(options.relaxed, false, rows)),
      addLayerNormFunction(),
      attentionFunction(),
      ...GEMM_TILE_ROWS.map((rows) => gemmFunction(options.relaxed, true, rows)),
      ...GEMM_TILE_ROWS.map((rows) => gemmFunction(options.relaxed, false, rows, true)),
    ],
    {
      min: 1,
      max: options.maxPages,
      shared: options.shared,
    },
  );
}
