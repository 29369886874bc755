/**
 * The tf-op twins on their own, against values worked out by hand (they are the oracle of the
 * WebGPU kernels' tests, so they are checked against something else): HF's activations at a
 * few points, and a 2 × 3 Linear layer in both layouts.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { activate, denseFallback } from '../../../kernels/fallback/dense.js';
import type { Activation } from '../../../kernels/types.js';
import { disposeLinearWeights, makeLinearWeights } from '../../../kernels/weights.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('activate (HF ACT2FN)', () => {
  // act(1) and act(-2), from the closed forms (math.erf, math.tanh in Python)
  const cases: [Activation, number, number][] = [
    ['linear', 1, -2],
    ['gelu', 0.8413447460685429, -0.04550026389635842],
    ['gelu_new', 0.8411919906082768, -0.04540230591222494],
    ['gelu_fast', 0.841191990607477, -0.04540230591282446],
    ['quick_gelu', 0.8457957659328212, -0.06434137685579186],
    ['relu', 1, 0],
    ['silu', 0.7310585786300049, -0.23840584404423515],
    ['tanh', 0.7615941559557649, -0.9640275800758169],
    ['sigmoid', 0.7310585786300049, 0.11920292202211755],
  ];
  for (const [act, at1, atMinus2] of cases) {
    it(act, () => {
      const y = tf.tidy(() => activate(tf.tensor1d([1, -2]), act));
      const [a, b] = y.dataSync();
      y.dispose();
      expect(a).toBeCloseTo(at1, 5);
      expect(b).toBeCloseTo(atMinus2, 5);
    });
  }
});

describe('denseFallback', () => {
  // W [2, 3] (HF [out, in]), b [2]; x [1, 3] → x·Wᵀ + b = [1·1 + 2·0 + 3·-1 + 0.5, 1·2 + 2·1 + 3·0 - 1]
  const W = Float32Array.of(1, 0, -1, 2, 1, 0);
  const b = Float32Array.of(0.5, -1);
  const x = [[1, 2, 3]];

  for (const format of ['f32', 'f32-in-out'] as const) {
    it(`y = x·Wᵀ + b with the weight stored ${format}`, () => {
      const w = makeLinearWeights({ shape: [2, 3], weight: W, bias: b }, format);
      const y = tf.tidy(() => denseFallback(tf.tensor2d(x), w));
      expect(Array.from(y.dataSync())).toEqual([-1.5, 3]);
      y.dispose();
      disposeLinearWeights(w);
    });
  }
});

describe('why denseFallback adds the bias itself', () => {
  it('tfjs-backend-wasm 4.22 fused matMul adds the bias wrongly with transposeB', async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    try {
      const err = tf.tidy(() => {
        const a = tf.randomNormal([5, 8], 0, 1, 'float32', 1);
        const b = tf.randomNormal([6, 8], 0, 1, 'float32', 2);
        const bias = tf.randomNormal([6], 0, 1, 'float32', 3);
        const fused = tf.fused.matMul({ a, b, transposeB: true, bias });
        const plain = tf.add(tf.matMul(a, b, false, true), bias);
        return tf.max(tf.abs(tf.sub(fused, plain))).dataSync()[0];
      });
      // When this fails, tf.js has fixed it and denseFallback may fuse the bias again.
      expect(err).toBeGreaterThan(0.1);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
