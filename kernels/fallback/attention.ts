/**
 * Multi-head scaled dot-product attention as plain tf ops: the WASM/CPU path and the oracle the
 * WebGPU kernel is tested against. Mirrors HF LxmertAttention.forward after the projections.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AttentionResult } from '../types.js';

/**
 * @param q [B, Lq, H] projected queries
 * @param k [B, Lk, H] projected keys
 * @param v [B, Lk, H] projected values
 * @param mask [B, Lk] additive key mask (0 keep, finfo(float32).min drop) or null
 */
export function attentionFallback(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  mask: tf.Tensor2D | null,
  numHeads: number,
  returnProbs: boolean,
): AttentionResult {
  return tf.tidy(() => {
    const [b, lq, h] = q.shape;
    const lk = k.shape[1];
    const dh = h / numHeads;
    const split = (t: tf.Tensor3D, l: number) =>
      tf.transpose(tf.reshape(t, [b, l, numHeads, dh]), [0, 2, 1, 3]); // [B, nh, L, dh]
    const qh = split(q, lq);
    const kh = split(k, lk);
    const vh = split(v, lk);
    let scores = tf.div(tf.matMul(qh, kh, false, true), Math.sqrt(dh)); // [B, nh, Lq, Lk]
    if (mask) scores = tf.add(scores, tf.reshape(mask, [b, 1, 1, lk]));
    const probs = tf.softmax(scores) as tf.Tensor4D;
    const ctx = tf.matMul(probs, vh); // [B, nh, Lq, dh]
    const context = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [b, lq, h]) as tf.Tensor3D;
    return returnProbs ? { context, probs } : { context };
  });
}
