/**
 * The grouped ops as plain tf ops, over float32 weights (the wasm/cpu twins of the grouped
 * WebGPU kernels, and their oracle): each group's rows run through the single-stream fallbacks.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation, LinearWeights } from '../types.js';
import { addLayerNormFallback } from './add_layer_norm.js';
import { attentionFallback } from './attention.js';
import { denseFallback } from './dense.js';

/** Rows [0, split) and [split, M) of x [..., K] as [rows, K] tensors. */
export function splitRows(x: tf.Tensor, split: number): [tf.Tensor2D, tf.Tensor2D] {
  const k = x.shape[x.shape.length - 1];
  const x2 = tf.reshape(x, [-1, k]) as tf.Tensor2D;
  return [tf.slice(x2, [0, 0], [split, k]), tf.slice(x2, [split, 0], [-1, k])];
}

/** act(x · Wᵀ + b), rows [0, split) with ws[0], the rest with ws[1]. */
export function groupedDenseFallback(
  x: tf.Tensor,
  ws: readonly [LinearWeights, LinearWeights],
  split: number,
  act: Activation,
): tf.Tensor {
  return tf.tidy(() => {
    const [a, b] = splitRows(x, split);
    const parts = [denseFallback(a, ws[0], act), denseFallback(b, ws[1], act)];
    const y = tf.concat(parts, 0) as tf.Tensor2D;
    return tf.reshape(y, [...x.shape.slice(0, -1), y.shape[1]]);
  });
}

/** One weight set of a dense + add + LayerNorm: the Linear and its epilogue's LayerNorm. */
export interface DenseNormWeights {
  linear: LinearWeights;
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
}

/**
 * LayerNorm(x · Wᵀ + b + residual); with two weight sets, rows [0, split) use the first.
 */
export function denseAddLayerNormFallback(
  x: tf.Tensor,
  residual: tf.Tensor,
  sets: readonly DenseNormWeights[],
  split: number,
  eps: number,
): tf.Tensor {
  return tf.tidy(() => {
    const one = (xs: tf.Tensor, rs: tf.Tensor, s: DenseNormWeights) =>
      addLayerNormFallback(denseFallback(xs, s.linear), rs, s.gamma, s.beta, eps);
    if (sets.length === 1) return one(x, residual, sets[0]);
    const [x0, x1] = splitRows(x, split);
    const [r0, r1] = splitRows(residual, split);
    const y = tf.concat([one(x0, r0, sets[0]), one(x1, r1, sets[1])], 0);
    return tf.reshape(y, residual.shape);
  });
}

/** One attention of a grouped call (see LXMERT_GROUPED_ATTENTION in names.ts). */
export interface AttentionGroup {
  qRow: number;
  lq: number;
  kRow: number;
  lk: number;
  /** [batch, lk] additive, or null. */
  mask: tf.Tensor2D | null;
}

/**
 * Attention of each group over rows of a stacked qkv [rows, 3H]: context [Σ batch·lq, H] in
 * group order, and group 0's probabilities on request.
 */
export function groupedAttentionFallback(
  qkv: tf.Tensor2D,
  groups: readonly AttentionGroup[],
  batch: number,
  numHeads: number,
  returnProbs: boolean,
): { context: tf.Tensor2D; probs?: tf.Tensor4D } {
  const hidden = qkv.shape[1] / 3;
  const rows = (start: number, len: number, col: number) =>
    tf.reshape(tf.slice(qkv, [start, col], [batch * len, hidden]), [batch, len, hidden]);
  let probs: tf.Tensor4D | undefined;
  const context = tf.tidy(() => {
    const parts = groups.map((g, i) => {
      const r = attentionFallback(
        rows(g.qRow, g.lq, 0) as tf.Tensor3D,
        rows(g.kRow, g.lk, hidden) as tf.Tensor3D,
        rows(g.kRow, g.lk, 2 * hidden) as tf.Tensor3D,
        g.mask,
        numHeads,
        returnProbs && i === 0,
      );
      if (r.probs) probs = tf.keep(r.probs);
      return tf.reshape(r.context, [-1, hidden]);
    });
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor2D;
  });
  return probs ? { context, probs } : { context };
}
