/** Residual add + LayerNorm on WebGPU against the tf-op fallback (eps 1e-12). */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseWebGPU } from '../../src/backend.js';
import { addLayerNormFallback } from '../../kernels/fallback/add_layer_norm.js';
import { addLayerNorm } from '../../kernels/ops.js';
import { trackDispatches } from '../../kernels/runtime/dispatch_counter.js';
import { maxAbs, onCpu, randomArray, relL2, useWebGPU } from './webgpu_env.js';

let ready = false;
beforeAll(async () => {
  ready = (await useWebGPU()) !== null;
});
afterAll(async () => {
  await releaseWebGPU();
});

describe('LxmertAddLayerNorm (webgpu) vs fallback', () => {
  const cases = [
    { shape: [2, 13, 64], residual: true },
    { shape: [10, 100], residual: true },
    { shape: [3, 7, 1030], residual: false },
  ];
  for (const c of cases) {
    it(`[${c.shape.join(', ')}] residual=${c.residual}`, async ({ skip }) => {
      if (!ready) skip();
      const n = c.shape.reduce((a, b) => a * b, 1);
      const width = c.shape[c.shape.length - 1];
      const xs = randomArray(n, 1, 3);
      const rs = randomArray(n, 2, 1);
      const g = randomArray(width, 3, 1);
      const b = randomArray(width, 4, 1);
      const make = () =>
        [
          tf.tensor(xs, c.shape),
          c.residual ? tf.tensor(rs, c.shape) : null,
          tf.tensor1d(g),
          tf.tensor1d(b),
        ] as const;
      const [ref] = await onCpu(() => {
        const [x, r, gamma, beta] = make();
        return addLayerNormFallback(x, r, gamma, beta, 1e-12);
      });
      const [x, r, gamma, beta] = make();
      const counter = trackDispatches();
      const y = addLayerNorm(x, r, gamma, beta, 1e-12);
      expect(counter.stop().byProgram).toEqual({ AddLayerNormProgram: 1 });
      const got = await y.data();
      expect(relL2(got, ref)).toBeLessThan(1e-6);
      expect(maxAbs(got, ref)).toBeLessThan(1e-5);
      tf.dispose([x, y, gamma, beta, ...(r ? [r] : [])]);
    });
  }
});
