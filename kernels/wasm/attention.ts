/**
 * Multi-head attention on the WASM path without probabilities: per batch row and head,
 * context = softmax((q/√dh)·kᵀ + mask)·v, the whole of it (both products, mask, softmax) in the
 * GEMM module's `attention` function (GemmEngine.attention), heads split across its threads.
 * Replaces ~10 tf ops per call whose batched matMuls tfjs-backend-wasm runs in a naive loop. Its
 * tf-op twin is attentionFallback (test/kernels/wasm/gemm.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PackedProjection } from '../types.js';
import { gemmEngine, type AttentionOperand } from './gemm.js';

/**
 * @param q, k, v column ranges of [B, L, W] projections (width H each, H/numHeads a multiple
 *   of 4)
 * @param mask [B, Lk] additive key mask or null
 * @returns context [B, Lq, H]
 */
export function gemmAttention(
  q: PackedProjection,
  k: PackedProjection,
  v: PackedProjection,
  mask: tf.Tensor2D | null,
  numHeads: number,
): tf.Tensor3D {
  const engine = gemmEngine();
  if (!engine) throw new Error('WASM GEMM attention without a GEMM engine');
  const [b, lq] = q.packed.shape;
  const lk = k.packed.shape[1];
  const data = new Map<tf.Tensor, Float32Array>();
  const operand = (p: PackedProjection): AttentionOperand => {
    let d = data.get(p.packed);
    if (!d) data.set(p.packed, (d = p.packed.dataSync() as Float32Array));
    return { data: d, ld: p.packed.shape[2], offset: p.offset };
  };
  const md = mask ? (mask.dataSync() as Float32Array) : null;
  const h = q.width;
  const out = engine.attention(operand(q), operand(k), operand(v), md, {
    b,
    lq,
    lk,
    heads: numHeads,
    h,
  });
  return tf.tensor3d(out, [b, lq, h]);
}

/** Whether gemmAttention takes this head width (the module reads heads 4 floats at a time). */
export function gemmAttentionFits(width: number, numHeads: number): boolean {
  const dh = width / numHeads;
  return Number.isInteger(dh) && dh % 4 === 0;
}
