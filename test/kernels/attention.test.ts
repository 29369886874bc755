/** Fused attention on WebGPU against its tf-op fallback on cpu: Lq ≠ Lk, masks, head sizes. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseWebGPU } from '../../src/backend.js';
import { attentionFallback } from '../../kernels/fallback/attention.js';
import { attention, splitProjections } from '../../kernels/ops.js';
import { trackDispatches } from '../../kernels/runtime/dispatch_counter.js';
import { keyMask, maxAbs, onCpu, randomArray, relL2, useWebGPU } from './webgpu_env.js';

let ready = false;
beforeAll(async () => {
  ready = (await useWebGPU()) !== null;
});
afterAll(async () => {
  await releaseWebGPU();
});

interface Case {
  name: string;
  batch: number;
  lq: number;
  lk: number;
  heads: number;
  headDim: number;
  /** Keys kept per batch row (0 = every key masked), or null for no mask. */
  keep: number[] | null;
}

const CASES: Case[] = [
  {
    name: 'cross 13 tokens → 10 boxes, head 16, masked boxes',
    batch: 2,
    lq: 13,
    lk: 10,
    heads: 2,
    headDim: 16,
    keep: [10, 6],
  },
  {
    name: 'cross 10 boxes → 13 tokens, head 64, padded tokens',
    batch: 2,
    lq: 10,
    lk: 13,
    heads: 2,
    headDim: 64,
    keep: [9, 13],
  },
  {
    name: 'self 13 tokens, head 64, no mask',
    batch: 1,
    lq: 13,
    lk: 13,
    heads: 2,
    headDim: 64,
    keep: null,
  },
  {
    name: 'self 10 boxes, head 16, one row fully masked',
    batch: 2,
    lq: 10,
    lk: 10,
    heads: 3,
    headDim: 16,
    keep: [0, 7],
  },
];

describe('LxmertAttention (webgpu) vs fallback', () => {
  for (const c of CASES) {
    it(c.name, async ({ skip }) => {
      if (!ready) skip();
      const h = c.heads * c.headDim;
      const q = randomArray(c.batch * c.lq * h, 1, 2);
      const k = randomArray(c.batch * c.lk * h, 2, 2);
      const v = randomArray(c.batch * c.lk * h, 3);
      const m = c.keep ? keyMask(c.batch, c.lk, c.keep) : null;
      const make = () => ({
        q: tf.tensor3d(q, [c.batch, c.lq, h]),
        k: tf.tensor3d(k, [c.batch, c.lk, h]),
        v: tf.tensor3d(v, [c.batch, c.lk, h]),
        mask: m ? tf.tensor2d(m, [c.batch, c.lk]) : null,
      });
      const [refCtx, refProbs] = await onCpu(() => {
        const t = make();
        const r = attentionFallback(t.q, t.k, t.v, t.mask, c.heads, true);
        return [r.context, r.probs!];
      });

      const t = make();
      const counter = trackDispatches();
      const r = attention(t.q, t.k, t.v, t.mask, c.heads, true);
      const stats = counter.stop();
      const ctx = await r.context.data();
      const probs = await r.probs!.data();
      expect(r.context.shape).toEqual([c.batch, c.lq, h]);
      expect(r.probs!.shape).toEqual([c.batch, c.heads, c.lq, c.lk]);
      expect(relL2(ctx, refCtx)).toBeLessThan(1e-5);
      expect(maxAbs(ctx, refCtx)).toBeLessThan(1e-5);
      expect(maxAbs(probs, refProbs)).toBeLessThan(1e-6);
      expect(stats.byProgram).toEqual({ AttentionProgram: 1, AttentionProbsProgram: 1 });
      tf.dispose([r.context, r.probs!, t.q, t.k, t.v, ...(t.mask ? [t.mask] : [])]);
    });
  }

  it('reads q, k, v in place from a fused [B, L, 3H] projection, one dispatch', async ({
    skip,
  }) => {
    if (!ready) skip();
    const [b, l, heads, d] = [2, 13, 2, 16];
    const h = heads * d;
    const qkv = randomArray(b * l * 3 * h, 7, 2);
    const m = keyMask(b, l, [13, 5]);
    const [ref] = await onCpu(() => {
      const packed = tf.tensor3d(qkv, [b, l, 3 * h]);
      const [q, k, v] = tf.split(packed, 3, 2) as tf.Tensor3D[];
      return attentionFallback(q, k, v, tf.tensor2d(m, [b, l]), heads, false).context;
    });
    const packed = tf.tensor3d(qkv, [b, l, 3 * h]);
    const mask = tf.tensor2d(m, [b, l]);
    const [q, k, v] = splitProjections(packed, 3);
    const counter = trackDispatches();
    const r = attention(q, k, v, mask, heads);
    expect(counter.stop().total).toBe(1);
    expect(r.probs).toBeUndefined();
    expect(relL2(await r.context.data(), ref)).toBeLessThan(1e-5);
    tf.dispose([r.context, packed, mask]);
  });
});
