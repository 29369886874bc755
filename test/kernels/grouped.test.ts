/**
 * The grouped WebGPU kernels of a cross-modality layer (issue 11) against their tf-op twins on
 * cpu (kernels/fallback/grouped.ts, over the same stored weights dequantized): a dense with two
 * weight sets split by rows, dense + residual + LayerNorm (one and two weight sets), and one or
 * two attentions over stacked rows of a fused QKV projection, each in one dispatch, for every
 * weight format.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseWebGPU } from '../../src/backend.js';
import {
  denseAddLayerNormFallback,
  groupedAttentionFallback,
  groupedDenseFallback,
  type AttentionGroup,
} from '../../kernels/fallback/grouped.js';
import {
  DENSE_VARIANT_FLAG,
  denseAddLayerNorm,
  groupedAttention,
  groupedDense,
} from '../../kernels/ops.js';
import { trackDispatches } from '../../kernels/runtime/dispatch_counter.js';
import type { Activation, LinearWeights, NormedLinear } from '../../kernels/types.js';
import { disposeLinearWeights, makeLinearWeights, type HostLinear } from '../../kernels/weights.js';
import { f32ToF16Bits } from '../../src/codec/float16.js';
import { quantizeInt8 } from '../../src/codec/int8.js';
import { keyMask, maxAbs, onCpu, randomArray, relL2, useWebGPU } from './webgpu_env.js';

let ready = false;
beforeAll(async () => {
  ready = (await useWebGPU()) !== null;
});
afterAll(async () => {
  await releaseWebGPU();
});

type Format = 'f32' | 'f16' | 'int8';

function host(out: number, inF: number, form: Format, seed: number): HostLinear {
  const w = randomArray(out * inF, seed, 0.3);
  const bias = randomArray(out, seed + 1, 0.5);
  if (form === 'f16')
    return { shape: [out, inF], weight: { f16: Uint16Array.from(w, f32ToF16Bits) }, bias };
  if (form === 'int8') return { shape: [out, inF], weight: quantizeInt8(w, out, inF), bias };
  return { shape: [out, inF], weight: w, bias };
}

/** A NormedLinear on the active backend (epilogue built as the model builds it). */
function normed(h: HostLinear, format: Format, seed: number): NormedLinear & { dispose(): void } {
  const linear = makeLinearWeights(h, format);
  const n = h.shape[0];
  const gamma = tf.tensor1d(randomArray(n, seed, 1).map((g) => 1 + g));
  const beta = tf.tensor1d(randomArray(n, seed + 1, 0.5));
  let epilogue: tf.Tensor2D | null = null;
  return {
    linear,
    gamma,
    beta,
    epilogue: () => {
      if (!epilogue) {
        const parts = [(linear as { bias: tf.Tensor1D }).bias, gamma, beta];
        if (linear.format === 'int8') parts.push(linear.scales);
        epilogue = tf.keep(tf.stack(parts) as tf.Tensor2D);
      }
      return epilogue;
    },
    dispose() {
      disposeLinearWeights(linear);
      tf.dispose([gamma, beta, ...(epilogue ? [epilogue] : [])]);
    },
  };
}

const DENSE_CASES: {
  format: Format;
  act: Activation;
  rows: [number, number];
  inF: number;
  out: number;
}[] = [
  { format: 'f32', act: 'gelu', rows: [20, 36], inF: 64, out: 40 },
  { format: 'f16', act: 'linear', rows: [5, 9], inF: 37, out: 33 },
  { format: 'int8', act: 'gelu', rows: [7, 3], inF: 64, out: 48 },
  { format: 'int8', act: 'linear', rows: [40, 72], inF: 30, out: 9 },
];

describe('groupedDense (webgpu) vs twin', () => {
  for (const c of DENSE_CASES) {
    for (const variant of ['tiled', 'skinny'] as const) {
      it(`${c.format} ${c.act} rows ${c.rows.join(' + ')}, ${c.inF} → ${c.out}, ${variant}`, async ({
        skip,
      }) => {
        if (!ready) skip();
        const hs = [host(c.out, c.inF, c.format, 3), host(c.out, c.inF, c.format, 9)];
        const m = c.rows[0] + c.rows[1];
        const xs = randomArray(m * c.inF, 11, 2);
        const [ref] = await onCpu(() => {
          const ws = hs.map((h) => makeLinearWeights(h, c.format)) as [
            LinearWeights,
            LinearWeights,
          ];
          const y = groupedDenseFallback(tf.tensor2d(xs, [m, c.inF]), ws, c.rows[0], c.act);
          ws.forEach(disposeLinearWeights);
          return y;
        });
        const ws = hs.map((h) => makeLinearWeights(h, c.format)) as [LinearWeights, LinearWeights];
        const x = tf.tensor2d(xs, [m, c.inF]);
        tf.env().set(DENSE_VARIANT_FLAG, variant);
        const counter = trackDispatches();
        const y = groupedDense(x, ws, c.rows[0], c.act);
        tf.env().set(DENSE_VARIANT_FLAG, 'auto');
        expect(counter.stop().byProgram).toEqual({ DenseProgram: 1 });
        expect(y.shape).toEqual([m, c.out]);
        const got = (await y.data()) as Float32Array;
        expect(relL2(got, ref)).toBeLessThan(1e-5);
        expect(maxAbs(got, ref)).toBeLessThan(1e-4);
        tf.dispose([x, y]);
        ws.forEach(disposeLinearWeights);
      });
    }
  }
});

const NORM_CASES: { format: Format; rows: number[]; inF: number; out: number }[] = [
  { format: 'f32', rows: [13], inF: 64, out: 40 },
  { format: 'f32', rows: [20, 36], inF: 128, out: 96 }, // 2 columns a thread
  { format: 'f16', rows: [5, 11], inF: 37, out: 33 },
  { format: 'int8', rows: [6, 3], inF: 64, out: 130 },
  { format: 'int8', rows: [9], inF: 30, out: 64 },
];

describe('denseAddLayerNorm (webgpu) vs twin', () => {
  for (const c of NORM_CASES) {
    it(`${c.format} rows ${c.rows.join(' + ')}, ${c.inF} → ${c.out}`, async ({ skip }) => {
      if (!ready) skip();
      const hs = c.rows.map((_, i) => host(c.out, c.inF, c.format, 5 + 4 * i));
      const m = c.rows.reduce((a, b) => a + b, 0);
      const xs = randomArray(m * c.inF, 12, 2);
      const rs = randomArray(m * c.out, 13, 3);
      const make = () => hs.map((h, i) => normed(h, c.format, 40 + i));
      const [ref] = await onCpu(() => {
        const sets = make();
        const y = denseAddLayerNormFallback(
          tf.tensor2d(xs, [m, c.inF]),
          tf.tensor2d(rs, [m, c.out]),
          sets,
          c.rows[0],
          1e-12,
        );
        sets.forEach((s) => s.dispose());
        return y;
      });
      const sets = make();
      sets.forEach((s) => s.epilogue()); // made ahead, as the model does
      const x = tf.tensor2d(xs, [m, c.inF]);
      const r = tf.tensor2d(rs, [m, c.out]);
      const counter = trackDispatches();
      const y = denseAddLayerNorm(x, r, sets, c.rows[0]);
      expect(counter.stop().byProgram).toEqual({ DenseAddLayerNormProgram: 1 });
      const got = (await y.data()) as Float32Array;
      expect(relL2(got, ref)).toBeLessThan(1e-5);
      expect(maxAbs(got, ref)).toBeLessThan(1e-4);
      tf.dispose([x, r, y]);
      sets.forEach((s) => s.dispose());
    });
  }
});

describe('groupedAttention (webgpu) vs twin', () => {
  const [batch, l, v, heads, headDim] = [2, 5, 9, 2, 16];
  const hidden = heads * headDim;
  const rows = batch * (l + v);
  const qkvs = randomArray(rows * 3 * hidden, 21, 1);
  const masks = [keyMask(batch, l, [5, 2]), keyMask(batch, v, [9, 4])];
  const cases: { name: string; groups: (m: tf.Tensor2D[]) => AttentionGroup[] }[] = [
    {
      name: 'cross, both directions, masked',
      groups: ([lm, vm]) => [
        { qRow: 0, lq: l, kRow: batch * l, lk: v, mask: vm },
        { qRow: batch * l, lq: v, kRow: 0, lk: l, mask: lm },
      ],
    },
    {
      name: 'self, two streams, one mask',
      groups: ([lm]) => [
        { qRow: 0, lq: l, kRow: 0, lk: l, mask: lm },
        { qRow: batch * l, lq: v, kRow: batch * l, lk: v, mask: null },
      ],
    },
    {
      name: 'one direction (the VQA path’s last layer)',
      groups: ([, vm]) => [{ qRow: 0, lq: l, kRow: batch * l, lk: v, mask: vm }],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: context and group 0's probabilities`, async ({ skip }) => {
      if (!ready) skip();
      const tensors = () => ({
        qkv: tf.tensor2d(qkvs, [rows, 3 * hidden]),
        m: [tf.tensor2d(masks[0], [batch, l]), tf.tensor2d(masks[1], [batch, v])],
      });
      const ref = await onCpu(() => {
        const t = tensors();
        const r = groupedAttentionFallback(t.qkv, c.groups(t.m), batch, heads, true);
        return [r.context, r.probs!];
      });
      const t = tensors();
      const counter = trackDispatches();
      const r = groupedAttention(t.qkv, c.groups(t.m), batch, heads, true);
      expect(counter.stop().byProgram).toEqual({ AttentionProgram: 1, AttentionProbsProgram: 1 });
      for (const [got, want] of [
        [r.context, ref[0]],
        [r.probs!, ref[1]],
      ] as const) {
        const g = (await got.data()) as Float32Array;
        expect(g.length).toBe(want.length);
        expect(relL2(g, want)).toBeLessThan(1e-5);
        expect(maxAbs(g, want)).toBeLessThan(1e-5);
      }
      tf.dispose([t.qkv, ...t.m, r.context, r.probs!]);
    });
  }
});
