/** Residual add + LayerNorm as plain tf ops (fallback and oracle of the fused kernel). */
import * as tf from '@tensorflow/tfjs-core';

/**
 * LayerNorm(x + residual) over the last axis, biased variance as in torch.nn.LayerNorm.
 * `residual` may be null (plain LayerNorm).
 */
export function addLayerNormFallback(
  x: tf.Tensor,
  residual: tf.Tensor | null,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): tf.Tensor {
  return tf.tidy(() => {
    const s = residual ? tf.add(x, residual) : x;
    const axis = s.rank - 1;
    const mean = tf.mean(s, axis, true);
    const centered = tf.sub(s, mean);
    const variance = tf.mean(tf.square(centered), axis, true);
    const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(normed, gamma), beta);
  });
}
