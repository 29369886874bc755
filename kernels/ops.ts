/**
 * The fused ops the model is written against. Each op runs the registered WebGPU kernel when
 * the active backend has one, else its tf-op fallback (kernels/fallback/), which is also the
 * oracle in tests.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { attentionFallback } from './fallback/attention.js';
import { denseFallback } from './fallback/dense.js';
import { addLayerNormFallback } from './fallback/layer_norm.js';
import type { Activation, AttentionResult, LinearWeights } from './types.js';

/** Multi-head attention on projected q/k/v ([B, L, H]) with an additive key mask [B, Lk]. */
export function attention(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  mask: tf.Tensor2D | null,
  numHeads: number,
  returnProbs = false,
): AttentionResult {
  return attentionFallback(q, k, v, mask, numHeads, returnProbs);
}

/** act(x · Wᵀ + b). */
export function dense(x: tf.Tensor, w: LinearWeights, act: Activation = 'linear'): tf.Tensor {
  return denseFallback(x, w, act);
}

/** LayerNorm(x + residual). */
export function addLayerNorm(
  x: tf.Tensor,
  residual: tf.Tensor | null,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps = 1e-12,
): tf.Tensor {
  return addLayerNormFallback(x, residual, gamma, beta, eps);
}
