/**
 * The WASM GEMM kernel, generated as a module (see module_builder.ts):
 *
 *   gemm(a, bp, bias, c, M, K, ldc, p0, p1)
 *   C[m, 8p + j] = bias[8p + j] + Σ_k A[m, k] · B[k, 8p + j]   for panels p in [p0, p1), all m
 *
 * A is [M, K] row-major float32 (K even), B is packed in panels of 8 output columns
 * (`bp + p·K·32` holds B[k, 8p..8p+8] for k = 0..K-1, one 32-byte row per k), bias and C are
 * padded to whole panels (C row stride `ldc` floats). Rows go 4 at a time (8 v128 accumulators;
 * k unrolled by 2), then one at a time. The multiply-add is f32x4.relaxed_madd (a fused
 * multiply-add where the CPU has one) in the relaxed-SIMD build, f32x4.mul + f32x4.add in the
 * SIMD128 build. All offsets are byte offsets into the imported memory.
 */
import { buildModule, FunctionBuilder } from './module_builder.js';

const ROWS = 4;
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

/** c + ((row · ldc) << 2) + (p << 5): the byte address of C[row, 8p]. */
function cAddress(f: FunctionBuilder, row: () => void): void {
  f.get('c');
  row();
  f.get('ldc').op('i32.mul').i32(2).op('i32.shl');
  f.get('p').i32(5).op('i32.shl').op('i32.add').op('i32.add');
}

function gemmFunction(relaxed: boolean): FunctionBuilder {
  const f = new FunctionBuilder('gemm', [
    ['a', 'i32'],
    ['bp', 'i32'],
    ['bias', 'i32'],
    ['c', 'i32'],
    ['M', 'i32'],
    ['K', 'i32'],
    ['ldc', 'i32'],
    ['p0', 'i32'],
    ['p1', 'i32'],
  ]);
  for (const n of ['p', 'i', 'k', 'pb', 'panel', 'rowb', 'pc', 'ca']) f.local(n, 'i32');
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
  f.get('bp').get('p').get('panel').op('i32.mul').op('i32.add').set('pc'); // panel start
  f.i32(0).set('i');

  // rows in tiles of ROWS
  f.op('block').op('loop');
  f.get('i').i32(ROWS).op('i32.add').get('M').op('i32.gt_u').branch('br_if', 1);
  for (let r = 0; r < ROWS; r++) {
    f.get('bi0').set(`c${r}0`).get('bi1').set(`c${r}1`);
    f.get('a').get('i').i32(r).op('i32.add').get('rowb').op('i32.mul').op('i32.add').set(`pa${r}`);
  }
  f.get('pc').set('pb');
  f.get('K').i32(1).op('i32.shr_u').set('k');
  f.op('loop'); // k, two at a time
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
  f.get('pb').i32(64).op('i32.add').set('pb');
  f.get('k').i32(1).op('i32.sub').tee('k').branch('br_if', 0);
  f.op('end');
  for (let r = 0; r < ROWS; r++) {
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

/** The GEMM module's bytes: relaxed-SIMD or SIMD128 arithmetic, shared memory or not. */
export function gemmModuleBytes(options: {
  relaxed: boolean;
  shared: boolean;
  maxPages: number;
}): Uint8Array<ArrayBuffer> {
  return buildModule([gemmFunction(options.relaxed)], {
    min: 1,
    max: options.maxPages,
    shared: options.shared,
  });
}
