/**
 * Multi-head attention on the WASM path without probabilities: per batch row and head,
 * scores = (q/√dh)·kᵀ + mask and context = softmax(scores)·v, both products on the WASM GEMM
 * kernel (GemmEngine.product), the softmax in JS (float64 accumulation). Replaces ~10 tf ops per
 * call whose batched matMuls tfjs-backend-wasm runs in a naive loop. Its tf-op twin is
 * attentionFallback (test/kernels/wasm_gemm.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PackedProjection } from '../types.js';
import { gemmEngine } from './gemm.js';

/**
 * @param q, k, v column ranges of [B, L, W] projections (width H each)
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
  const [b, lq, wq] = q.packed.shape;
  const [, lk, wk] = k.packed.shape;
  const wv = v.packed.shape[2];
  const h = q.width;
  const dh = h / numHeads;
  const scale = 1 / Math.sqrt(dh);
  const qd = q.packed.dataSync() as Float32Array;
  const kd = k.packed === q.packed ? qd : (k.packed.dataSync() as Float32Array);
  const vd = v.packed === k.packed ? kd : (v.packed.dataSync() as Float32Array);
  const md = mask ? (mask.dataSync() as Float32Array) : null;
  const out = new Float32Array(b * lq * h);
  const qh = new Float32Array(lq * dh);
  const kh = new Float32Array(lk * dh);
  const vh = new Float32Array(lk * dh);
  const row = new Float64Array(lk);
  for (let n = 0; n < b; n++) {
    for (let head = 0; head < numHeads; head++) {
      const c0 = head * dh;
      for (let i = 0; i < lq; i++) {
        const src = (n * lq + i) * wq + q.offset + c0;
        for (let d = 0; d < dh; d++) qh[i * dh + d] = qd[src + d] * scale;
      }
      for (let j = 0; j < lk; j++) {
        const ks = (n * lk + j) * wk + k.offset + c0;
        const vs = (n * lk + j) * wv + v.offset + c0;
        for (let d = 0; d < dh; d++) {
          kh[j * dh + d] = kd[ks + d];
          vh[j * dh + d] = vd[vs + d];
        }
      }
      const s = engine.product(qh, lq, dh, kh, lk, 'nk'); // [Lq, Lk]
      for (let i = 0; i < lq; i++) {
        let max = -Infinity;
        for (let j = 0; j < lk; j++) {
          const x = s[i * lk + j] + (md ? md[n * lk + j] : 0);
          row[j] = x;
          if (x > max) max = x;
        }
        let sum = 0;
        for (let j = 0; j < lk; j++) {
          row[j] = Math.exp(row[j] - max);
          sum += row[j];
        }
        for (let j = 0; j < lk; j++) s[i * lk + j] = row[j] / sum;
      }
      const ctx = engine.product(s, lq, lk, vh, dh, 'kn'); // [Lq, dh]
      for (let i = 0; i < lq; i++) {
        const dst = (n * lq + i) * h + c0;
        for (let d = 0; d < dh; d++) out[dst + d] = ctx[i * dh + d];
      }
    }
  }
  return tf.tensor3d(out, [b, lq, h]);
}
