/** Input checks shared by the WebGPU kernels and their fallbacks (InputError names the value). */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { InputError, formatShape } from '../src/errors.js';
import type { AttentionAttrs } from './names.js';

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

/** Rows (M) of a dense input [..., K]. */
export function checkDense(
  x: TensorInfo,
  weightShape: number[],
  inFeatures: number,
  bias: TensorInfo,
): number {
  expectFloat('x', x);
  if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== inFeatures) {
    throw new InputError('x', `last dimension ${inFeatures}`, `shape ${formatShape(x.shape)}`);
  }
  if (bias.shape.length !== 1 || bias.shape[0] !== weightShape[0]) {
    throw new InputError('bias', `shape ${formatShape([weightShape[0]])}`, formatShape(bias.shape));
  }
  return x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
}

export function checkLayerNorm(
  x: TensorInfo,
  residual: TensorInfo | undefined,
  gamma: TensorInfo,
  beta: TensorInfo,
): void {
  expectFloat('x', x);
  const width = x.shape[x.shape.length - 1];
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
