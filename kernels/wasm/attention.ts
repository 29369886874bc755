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
import { readFloats, tensorOf } from './tensor_io.js';

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
  const t0 = performance.now();
  const [b, lq] = q.packed.shape;
  const lk = k.packed.shape[1];
  const data = new Map<tf.Tensor, Float32Array>();
  const operand = (p: PackedProjection): AttentionOperand => {
    let d = data.get(p.packed);
    if (!d) data.set(p.packed, (d = readFloats(p.packed)));
    return { data: d, ld: p.packed.shape[2], offset: p.offset };
  };
  const md = mask ? readFloats(mask) : null;
  const h = q.width;
  const shape = { b, lq, lk, heads: numHeads, h };
  const out = engine.attention(operand(q), operand(k), operand(v), md, shape, { view: true });
  const t = tensorOf(out, [b, lq, h]) as tf.Tensor3D;
  engine.count('hooksMs', t0);
  return t;
}

/** Whether gemmAttention takes this head width (the module reads heads 4 floats at a time). */
export function gemmAttentionFits(width: number, numHeads: number): boolean {
  const dh = width / numHeads;
  return Number.isInteger(dh) && dh % 4 === 0;
}
