/**
 * The WASM GEMM dense (kernels/wasm/) against its tf-op twin: denseFallback on the same host
 * weights stored transposed ('f32-in-out', tfjs-backend-wasm's matMul), on the wasm backend.
 * Shapes cover the kernel's edges: rows not a multiple of 4, odd in-features, out-features not a
 * multiple of 8; also the module builder's output for both instruction sets.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { attention, dense, splitProjections } from '../../../kernels/ops.js';
import { attentionFallback } from '../../../kernels/fallback/attention.js';
import { MASK_MIN } from '../../../src/model/index.js';
import { denseFallback } from '../../../kernels/fallback/dense.js';
import type { Activation } from '../../../kernels/types.js';
import { gemmEngine, gemmIsa } from '../../../kernels/wasm/gemm.js';
import { GEMM_K_MULTIPLE, gemmModuleBytes } from '../../../kernels/wasm/gemm_kernel.js';
import {
  disposeLinearWeights,
  linearWeightBytes,
  makeLinearWeights,
  type HostLinear,
} from '../../../kernels/weights.js';
import { useBackend } from '../../helpers/backends.js';
import { maxAbs, randomArray, relL2 } from '../webgpu_env.js';

beforeAll(async () => {
  await useBackend('wasm');
});

function host(out: number, inF: number, seed: number): HostLinear {
  return {
    shape: [out, inF],
    weight: randomArray(out * inF, seed, 0.3),
    bias: randomArray(out, seed + 1, 0.5),
  };
}

const CASES: { m: number[]; inF: number; out: number; act: Activation }[] = [
  { m: [1, 20], inF: 64, out: 96, act: 'linear' },
  { m: [2, 7], inF: 33, out: 13, act: 'gelu' },
  { m: [2, 4], inF: 48, out: 40, act: 'gelu' }, // 8 rows: the 4-row tiles (36: 6)
  { m: [1, 36], inF: 2048, out: 24, act: 'linear' },
  { m: [3], inF: 4, out: 768, act: 'tanh' },
  { m: [1, 5], inF: 130, out: 3129, act: 'linear' },
];

describe('WASM GEMM dense', () => {
  it('this runtime has a kernel (Node 20: SIMD128; Chromium: relaxed SIMD)', () => {
    expect(gemmIsa()).not.toBeNull();
    expect(gemmEngine()?.isa).toBe(gemmIsa());
  });

  it('both instruction sets build into valid modules (shared memory too)', () => {
    expect(
      WebAssembly.validate(gemmModuleBytes({ relaxed: false, shared: false, maxPages: 16 })),
    ).toBe(true);
    expect(
      WebAssembly.validate(gemmModuleBytes({ relaxed: false, shared: true, maxPages: 16 })),
    ).toBe(true);
  });

  it.each(CASES)(
    'x $m × [$out, $inF], $act: within 1e-5 of the tf-op twin',
    ({ m, inF, out, act }) => {
      const h = host(out, inF, inF * 7 + out);
      const packed = makeLinearWeights(h, 'wasm-gemm');
      const twin = makeLinearWeights(h, 'f32-in-out');
      expect(packed.format).toBe('wasm-gemm');
      const x = tf.tensor(randomArray(m.reduce((a, b) => a * b, 1) * inF, 5, 1), [...m, inF]);
      const before = tf.memory().numTensors;
      const y = dense(x, packed, act);
      expect(tf.memory().numTensors, 'only the output is new').toBe(before + 1);
      const ref = denseFallback(x, twin, act);
      expect(y.shape).toEqual([...m, out]);
      const [got, want] = [y.dataSync(), ref.dataSync()];
      expect(maxAbs(got, want)).toBeLessThan(1e-5 * Math.sqrt(inF));
      expect(relL2(got, want)).toBeLessThan(1e-6);
      tf.dispose([x, y, ref]);
      disposeLinearWeights(twin);
      disposeLinearWeights(packed);
    },
  );

  it('holds each weight once, in its own memory, and gives it back on dispose', () => {
    const engine = gemmEngine()!;
    const held = engine.bytesHeld;
    const tensors = tf.memory().numTensors;
    const w = makeLinearWeights(host(100, 50, 3), 'wasm-gemm');
    expect(tf.memory().numTensors, 'no tf tensor for a GEMM-packed layer').toBe(tensors);
    // 13 panels × 52 rows (50 padded to GEMM_K_MULTIPLE) × 8 floats + 13 × 8 bias floats,
    // rounded to 64-byte blocks
    expect(GEMM_K_MULTIPLE).toBe(4);
    expect(linearWeightBytes(w)).toBe(21632 + 448);
    expect(engine.bytesHeld).toBe(held + linearWeightBytes(w));
    disposeLinearWeights(w);
    disposeLinearWeights(w); // twice is harmless
    expect(engine.bytesHeld).toBe(held);
  });

  it.each([
    { b: 1, lq: 20, lk: 20, heads: 4, masked: false, cross: false },
    { b: 3, lq: 7, lk: 11, heads: 2, masked: true, cross: true },
    { b: 2, lq: 36, lk: 20, heads: 12, masked: true, cross: true },
  ])(
    'attention $b×$lq→$lk, $heads heads, mask $masked: within 1e-5 of the tf-op twin',
    ({ b, lq, lk, heads, masked, cross }) => {
      const h = heads * 8;
      const pq = tf.tensor3d(randomArray(b * lq * 3 * h, 11, 2), [b, lq, 3 * h]);
      const pk = cross ? tf.tensor3d(randomArray(b * lk * 3 * h, 12, 2), [b, lk, 3 * h]) : pq;
      const mask = masked
        ? tf.tensor2d(
            Array.from({ length: b * lk }, (_, i) => (i % lk >= lk - (i % 3) ? MASK_MIN : 0)),
            [b, lk],
          )
        : null;
      const [q] = splitProjections(pq, 3);
      const [, k, v] = splitProjections(pk, 3);
      const before = tf.memory().numTensors;
      const got = attention(q, k, v, mask, heads).context;
      expect(tf.memory().numTensors).toBe(before + 1);
      const cols = (t: tf.Tensor3D, o: number) => tf.slice(t, [0, 0, o], [-1, -1, h]);
      const want = attentionFallback(cols(pq, 0), cols(pk, h), cols(pk, 2 * h), mask, heads, false);
      expect(got.shape).toEqual([b, lq, h]);
      expect(maxAbs(got.dataSync(), want.context.dataSync())).toBeLessThan(1e-5);
      tf.dispose([got, want.context, pq, pk, ...(mask ? [mask] : [])]);
    },
  );

  it('a wrong input width is an InputError naming x', () => {
    const w = makeLinearWeights(host(8, 16, 9), 'wasm-gemm');
    const x = tf.zeros([2, 15]);
    expect(() => dense(x, w)).toThrow(InputError);
    expect(() => dense(x, w)).toThrow(/x/);
    x.dispose();
    disposeLinearWeights(w);
  });
});
