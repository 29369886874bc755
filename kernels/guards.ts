/**
 * Input checks of the fused kernels, one per kernel, called by both twins (the WebGPU kernelFunc
 * and the tf-op fallback's) before any work: a bad call throws the same InputError, naming the
 * argument, on every backend. Each returns the sizes it derived.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { wordsPerRow } from '../src/codec/gpu_words.js';
import { InputError, formatShape } from '../src/errors.js';
import { LXMERT_DENSE_ADD_LAYER_NORM } from './names.js';
import type {
  AttentionAttrs,
  DenseAddLayerNormAttrs,
  DenseAttrs,
  GroupedAttentionAttrs,
  GroupedDenseAttrs,
  GatherRowsAttrs,
  RoiPoolAttrs,
  WeightFormat,
} from './names.js';

/**
 * The named inputs of a kernel call, each required one present (InputError naming the first
 * missing one). `kernel` is the kernel name, for the message.
 */
export function requireInputs<K extends string>(
  kernel: string,
  inputs: Record<string, TensorInfo | undefined>,
  required: readonly K[],
): Record<K, TensorInfo> {
  for (const name of required) {
    if (!inputs[name]) throw new InputError(name, `a tensor (required by ${kernel})`, 'none');
  }
  return inputs as Record<K, TensorInfo>;
}

/** Stored width of a weight row of `cols` values: int32 words for f16/int8, floats for f32. */
function storedWidth(format: WeightFormat, cols: number): number {
  return format === 'f32' ? cols : wordsPerRow(format, cols);
}

/**
 * A weight or table's own tensor in storage `format`: float32 [rows, cols] or int32 words [rows,
 * stored width] (a dense + add + LayerNorm call's int8 scales are in its epilogue). Returns rows.
 */
function checkWeightOnly(name: string, t: TensorInfo, format: WeightFormat, cols: number): number {
  const dtype = format === 'f32' ? 'float32' : 'int32';
  const width = storedWidth(format, cols);
  if (t.dtype !== dtype || t.shape.length !== 2 || t.shape[1] !== width) {
    throw new InputError(
      name,
      `${dtype} [rows, ${width}] for format ${format}`,
      `${t.dtype} ${formatShape(t.shape)}`,
    );
  }
  return t.shape[0];
}

/** checkWeightOnly, with [rows] scales for int8. Returns rows. */
function checkStored(
  name: string,
  t: TensorInfo,
  scales: TensorInfo | undefined,
  format: WeightFormat,
  cols: number,
  scalesName = 'scales',
): number {
  const rows = checkWeightOnly(name, t, format, cols);
  if (format === 'int8') {
    if (!scales || scales.dtype !== 'float32' || scales.shape.join() !== `${t.shape[0]}`) {
      throw new InputError(
        scalesName,
        `float32 [${t.shape[0]}] for int8 ${name}`,
        scales ? `${scales.dtype} ${formatShape(scales.shape)}` : 'none',
      );
    }
  }
  return rows;
}

function expectRank(name: string, t: TensorInfo, rank: number): void {
  if (t.shape.length !== rank) {
    throw new InputError(name, `rank ${rank}`, `shape ${formatShape(t.shape)}`);
  }
}

function expectFloat(name: string, t: TensorInfo): void {
  if (t.dtype !== 'float32') throw new InputError(name, 'float32', t.dtype);
}

/** Shapes of a checked attention call. */
export interface AttentionDims {
  batch: number;
  lq: number;
  lk: number;
  headDim: number;
}

export function checkAttention(
  q: TensorInfo,
  k: TensorInfo,
  v: TensorInfo,
  mask: TensorInfo | undefined,
  a: AttentionAttrs,
): AttentionDims {
  for (const [name, t] of [
    ['q', q],
    ['k', k],
    ['v', v],
  ] as const) {
    expectRank(name, t, 3);
    expectFloat(name, t);
  }
  const [batch, lq] = q.shape;
  const lk = k.shape[1];
  if (!Number.isInteger(a.numHeads) || a.numHeads <= 0 || a.hidden % a.numHeads !== 0) {
    throw new InputError('numHeads', `a positive divisor of hidden ${a.hidden}`, `${a.numHeads}`);
  }
  const headDim = a.hidden / a.numHeads;
  if (headDim > 256) throw new InputError('head size', 'at most 256', `${headDim}`);
  const within = (name: string, t: TensorInfo, offset: number) => {
    if (t.shape[0] !== batch) {
      throw new InputError(name, `batch ${batch}`, `shape ${formatShape(t.shape)}`);
    }
    if (offset < 0 || offset + a.hidden > t.shape[2]) {
      throw new InputError(
        name,
        `columns [${offset}, ${offset + a.hidden}) inside its width`,
        `shape ${formatShape(t.shape)}`,
      );
    }
  };
  within('q', q, a.qOffset);
  within('k', k, a.kOffset);
  within('v', v, a.vOffset);
  if (v.shape[1] !== lk) {
    throw new InputError('v', `${lk} positions like k`, `shape ${formatShape(v.shape)}`);
  }
  if (mask) {
    expectFloat('mask', mask);
    if (mask.shape.length !== 2 || mask.shape[0] !== batch || mask.shape[1] !== lk) {
      throw new InputError('mask', `shape ${formatShape([batch, lk])}`, formatShape(mask.shape));
    }
  }
  return { batch, lq, lk, headDim };
}

/** Shapes of a checked dense call: M rows of x, N outputs. */
export interface DenseDims {
  m: number;
  n: number;
}

export function checkDense(
  x: TensorInfo,
  weight: TensorInfo,
  bias: TensorInfo,
  scales: TensorInfo | undefined,
  a: DenseAttrs,
): DenseDims {
  const n = checkStored('weight', weight, scales, a.format, a.inFeatures);
  expectFloat('x', x);
  if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== a.inFeatures) {
    throw new InputError('x', `last dimension ${a.inFeatures}`, `shape ${formatShape(x.shape)}`);
  }
  expectFloat('bias', bias);
  if (bias.shape.length !== 1 || bias.shape[0] !== n) {
    throw new InputError('bias', `shape ${formatShape([n])}`, formatShape(bias.shape));
  }
  return { m: x.shape.slice(0, -1).reduce((p, d) => p * d, 1), n };
}

/** The split row of a grouped call: an integer in [0, rows]. */
function checkSplit(split: number | undefined, rows: number): number {
  if (split === undefined || !Number.isInteger(split) || split < 0 || split > rows) {
    throw new InputError('split', `an integer in [0, ${rows}]`, String(split));
  }
  return split;
}

/**
 * The second weight set of a grouped dense (weight1, bias1, scales1): the same format and
 * shape as the first. Returns the split row.
 */
export function checkDenseGroup(
  dims: DenseDims,
  weight1: TensorInfo,
  bias1: TensorInfo | undefined,
  scales1: TensorInfo | undefined,
  a: GroupedDenseAttrs,
): number {
  const n = checkStored('weight1', weight1, scales1, a.format, a.inFeatures, 'scales1');
  if (n !== dims.n) {
    throw new InputError('weight1', `${dims.n} rows like weight`, `${n}`);
  }
  if (!bias1 || bias1.dtype !== 'float32' || bias1.shape.join() !== `${n}`) {
    throw new InputError(
      'bias1',
      `float32 ${formatShape([n])}`,
      bias1 ? `${bias1.dtype} ${formatShape(bias1.shape)}` : 'none',
    );
  }
  return checkSplit(a.split, dims.m);
}

/** Shapes of a checked dense + add + LayerNorm call. */
export interface DenseAddLayerNormDims extends DenseDims {
  groups: 1 | 2;
  split: number;
}

export function checkDenseAddLayerNorm(
  x: TensorInfo,
  residual: TensorInfo,
  weight: TensorInfo,
  epilogue: TensorInfo,
  weight1: TensorInfo | undefined,
  epilogue1: TensorInfo | undefined,
  a: DenseAddLayerNormAttrs,
): DenseAddLayerNormDims {
  const n = checkWeightOnly('weight', weight, a.format, a.inFeatures);
  expectFloat('x', x);
  if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== a.inFeatures) {
    throw new InputError('x', `last dimension ${a.inFeatures}`, `shape ${formatShape(x.shape)}`);
  }
  const m = x.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const outShape = [...x.shape.slice(0, -1), n];
  expectFloat('residual', residual);
  if (residual.shape.join() !== outShape.join()) {
    throw new InputError('residual', `shape ${formatShape(outShape)}`, formatShape(residual.shape));
  }
  const epilogueRows = a.format === 'int8' ? 4 : 3;
  const checkEpilogue = (name: string, t: TensorInfo) => {
    if (t.dtype !== 'float32' || t.shape.join() !== `${epilogueRows},${n}`) {
      throw new InputError(
        name,
        `float32 ${formatShape([epilogueRows, n])} (bias, gamma, beta${a.format === 'int8' ? ', scales' : ''})`,
        `${t.dtype} ${formatShape(t.shape)}`,
      );
    }
  };
  checkEpilogue('epilogue', epilogue);
  if (!weight1) {
    if (epilogue1) throw new InputError('epilogue1', 'none without weight1', 'a tensor');
    if (a.split !== m)
      throw new InputError('split', `${m} (all rows) with one weight`, String(a.split));
    return { m, n, groups: 1, split: m };
  }
  const n1 = checkWeightOnly('weight1', weight1, a.format, a.inFeatures);
  if (n1 !== n) throw new InputError('weight1', `${n} rows like weight`, `${n1}`);
  if (!epilogue1) throw new InputError('epilogue1', 'a tensor with weight1', 'none');
  checkEpilogue('epilogue1', epilogue1);
  return { m, n, groups: 2, split: checkSplit(a.split, m) };
}

/**
 * The named inputs of an LxmertDenseAddLayerNorm call (both twins): the required ones present,
 * every one checked against `a`.
 */
export function denseAddLayerNormInputs(
  inputs: Record<string, TensorInfo | undefined>,
  a: DenseAddLayerNormAttrs,
) {
  const { x, residual, weight, epilogue } = requireInputs(LXMERT_DENSE_ADD_LAYER_NORM, inputs, [
    'x',
    'residual',
    'weight',
    'epilogue',
  ]);
  const { weight1, epilogue1 } = inputs;
  const dims = checkDenseAddLayerNorm(x, residual, weight, epilogue, weight1, epilogue1, a);
  return { x, residual, weight, epilogue, weight1, epilogue1, dims };
}

/** Sizes of a checked grouped attention call. */
export interface GroupedAttentionDims {
  headDim: number;
  /** Rows of the context output. */
  outRows: number;
}

export function checkGroupedAttention(
  qkv: TensorInfo,
  mask: TensorInfo | undefined,
  mask1: TensorInfo | undefined,
  a: GroupedAttentionAttrs,
): GroupedAttentionDims {
  expectRank('qkv', qkv, 2);
  expectFloat('qkv', qkv);
  if (!Number.isInteger(a.numHeads) || a.numHeads <= 0 || a.hidden % a.numHeads !== 0) {
    throw new InputError('numHeads', `a positive divisor of hidden ${a.hidden}`, `${a.numHeads}`);
  }
  const headDim = a.hidden / a.numHeads;
  if (headDim > 256) throw new InputError('head size', 'at most 256', `${headDim}`);
  if (qkv.shape[1] !== 3 * a.hidden) {
    throw new InputError('qkv', `width ${3 * a.hidden} (q | k | v)`, formatShape(qkv.shape));
  }
  if (a.groups !== 1 && a.groups !== 2) throw new InputError('groups', '1 or 2', `${a.groups}`);
  if (!Number.isInteger(a.batch) || a.batch < 1) {
    throw new InputError('batch', 'a positive integer', `${a.batch}`);
  }
  const rows = qkv.shape[0];
  const group = (g: number, qRow: number, lq: number, kRow: number, lk: number) => {
    for (const [name, start, len] of [
      [`qRow${g || ''}`, qRow, lq],
      [`kRow${g || ''}`, kRow, lk],
    ] as const) {
      const ok = Number.isInteger(start) && Number.isInteger(len) && start >= 0 && len >= 1;
      if (!ok || start + a.batch * len > rows) {
        throw new InputError(
          name,
          `${a.batch} × ${len} rows inside qkv's ${rows}`,
          `rows from ${start}`,
        );
      }
    }
  };
  group(0, a.qRow, a.lq, a.kRow, a.lk);
  if (a.groups === 2) group(1, a.qRow1, a.lq1, a.kRow1, a.lk1);
  else if (mask1) throw new InputError('mask1', 'none with one group', 'a tensor');
  for (const [name, t, lk] of [
    ['mask', mask, a.lk],
    ['mask1', mask1, a.lk1],
  ] as const) {
    if (!t) continue;
    expectFloat(name, t);
    if (t.shape.length !== 2 || t.shape[0] !== a.batch || t.shape[1] !== lk) {
      throw new InputError(name, `shape ${formatShape([a.batch, lk])}`, formatShape(t.shape));
    }
  }
  return { headDim, outRows: a.batch * (a.lq + (a.groups === 2 ? a.lq1 : 0)) };
}

/** Check a table/ids pair; returns the number of ids. */
export function checkGatherRows(
  table: TensorInfo,
  ids: TensorInfo,
  scales: TensorInfo | undefined,
  a: GatherRowsAttrs,
): number {
  checkStored('table', table, scales, a.format, a.width);
  if (ids.dtype !== 'int32' || ids.shape.length !== 1) {
    throw new InputError('ids', 'int32 [n]', `${ids.dtype} ${formatShape(ids.shape)}`);
  }
  return ids.shape[0];
}

export function checkLayerNorm(
  x: TensorInfo,
  residual: TensorInfo | undefined,
  gamma: TensorInfo,
  beta: TensorInfo,
): void {
  expectFloat('x', x);
  if (x.shape.length < 1) throw new InputError('x', 'rank 1 or more', 'a scalar');
  const width = x.shape[x.shape.length - 1];
  if (residual) expectFloat('residual', residual);
  if (residual && residual.shape.join(',') !== x.shape.join(',')) {
    throw new InputError('residual', `shape ${formatShape(x.shape)}`, formatShape(residual.shape));
  }
  for (const [name, t] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (t.shape.length !== 1 || t.shape[0] !== width) {
      throw new InputError(name, `shape ${formatShape([width])}`, formatShape(t.shape));
    }
  }
}

/** Check x, boxes and attrs; the bin size is computed exactly for pooled sizes below 256. */
export function checkRoiPool(x: TensorInfo, boxes: TensorInfo, a: RoiPoolAttrs): void {
  if (x.dtype !== 'float32' || x.shape.length !== 4 || x.shape[0] !== 1) {
    throw new InputError('x', 'float32 [1, H, W, C]', `${x.dtype} ${formatShape(x.shape)}`);
  }
  if (boxes.dtype !== 'float32' || boxes.shape.length !== 2 || boxes.shape[1] !== 4) {
    throw new InputError('boxes', 'float32 [R, 4]', `${boxes.dtype} ${formatShape(boxes.shape)}`);
  }
  for (const k of ['pooledHeight', 'pooledWidth'] as const) {
    const v = a[k];
    if (!Number.isInteger(v) || v < 1 || v > 255) {
      throw new InputError(k, 'an integer in [1, 255]', String(v));
    }
  }
  if (!(a.spatialScale > 0) || !Number.isFinite(a.spatialScale)) {
    throw new InputError('spatialScale', 'a positive number', String(a.spatialScale));
  }
}
