/**
 * Robustness on WebGPU: a destroyed device is re-created and the same forward gives the same
 * answer; no tensor leaks across fused ops; the fused kernels are also registered for cpu/wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  currentGpuDevice,
  deviceRecovered,
  releaseWebGPU,
  withDeviceRecovery,
} from '../../../src/backend.js';
import { LXMERT_ATTENTION, LXMERT_DENSE, LXMERT_ADD_LAYER_NORM } from '../../../kernels/names.js';
import { addLayerNorm, attention, dense } from '../../../kernels/ops.js';
import { disposeLinearWeights, makeLinearWeights } from '../../../kernels/weights.js';
import type { LinearWeights } from '../../../kernels/types.js';
import { keyMask, randomArray, relL2, useWebGPU } from '../webgpu_env.js';

let ready = false;
const logs: string[] = [];
beforeAll(async () => {
  ready = (await useWebGPU()) !== null;
});
afterAll(async () => {
  await releaseWebGPU();
});

/** A tiny attention block: fused QKV-less projections, attention, output dense, add + LN. */
function block(ws: { q: LinearWeights; o: LinearWeights; g: tf.Tensor1D; b: tf.Tensor1D }) {
  return (x: tf.Tensor3D, mask: tf.Tensor2D) =>
    tf.tidy(() => {
      const q = dense(x, ws.q) as tf.Tensor3D;
      const a = attention(q, q, q, mask, 2).context;
      const y = dense(a, ws.o, 'gelu');
      return addLayerNorm(y, x, ws.g, ws.b) as tf.Tensor3D;
    });
}

function weights() {
  const h = 32;
  const lin = (seed: number, format: 'f32' | 'f16' | 'int8') =>
    makeLinearWeights(
      { shape: [h, h], weight: randomArray(h * h, seed, 0.3), bias: randomArray(h, seed + 1) },
      format,
    );
  return {
    q: lin(1, 'f16'),
    o: lin(3, 'int8'),
    g: tf.tensor1d(randomArray(h, 5)),
    b: tf.tensor1d(randomArray(h, 6)),
  };
}

describe('device loss and leaks', () => {
  it('re-creates a destroyed device and returns the same answer', async ({ skip }) => {
    if (!ready) skip();
    const ws = weights();
    const x = tf.tensor3d(randomArray(2 * 10 * 32, 9), [2, 10, 32]);
    const mask = tf.tensor2d(keyMask(2, 10, [10, 4]), [2, 10]);
    const f = block(ws);
    const run = () =>
      withDeviceRecovery(async () => {
        const y = f(x, mask);
        const v = await y.data();
        y.dispose();
        return v;
      });
    const before = await run();
    const device = currentGpuDevice()!;
    device.destroy(); // as a driver reset would
    const after = await run();
    await deviceRecovered();
    expect(currentGpuDevice()).not.toBe(device);
    expect(tf.getBackend()).toBe('webgpu');
    expect(relL2(after, before)).toBeLessThan(1e-6);
    // And the next forward on the new device too.
    expect(relL2(await run(), before)).toBeLessThan(1e-6);
    tf.dispose([x, mask, ws.g, ws.b]);
    disposeLinearWeights(ws.q);
    disposeLinearWeights(ws.o);
  });

  it('recovers when the device is lost mid-forward (between dispatch and read-back)', async ({
    skip,
  }) => {
    if (!ready) skip();
    const ws = weights();
    const x = tf.tensor3d(randomArray(2 * 10 * 32, 19), [2, 10, 32]);
    const mask = tf.tensor2d(keyMask(2, 10, [3, 10]), [2, 10]);
    const f = block(ws);
    const once = async () => {
      const y = f(x, mask);
      const v = await y.data();
      y.dispose();
      return v;
    };
    const reference = await once();
    let calls = 0;
    const got = await withDeviceRecovery(async () => {
      calls++;
      const y = f(x, mask);
      if (calls === 1) currentGpuDevice()!.destroy(); // work recorded, not yet read back
      try {
        return await y.data();
      } finally {
        y.dispose();
      }
    });
    await deviceRecovered();
    expect(calls).toBe(2);
    expect(relL2(got, reference)).toBeLessThan(1e-6);
    tf.dispose([x, mask, ws.g, ws.b]);
    disposeLinearWeights(ws.q);
    disposeLinearWeights(ws.o);
  });

  it('leaks no tensors across a forward', async ({ skip }) => {
    if (!ready) skip();
    const ws = weights();
    const x = tf.tensor3d(randomArray(1 * 7 * 32, 9), [1, 7, 32]);
    const mask = tf.tensor2d(keyMask(1, 7, [5]), [1, 7]);
    const f = block(ws);
    const warm = f(x, mask);
    await warm.data();
    warm.dispose();
    const n = tf.memory().numTensors;
    const y = f(x, mask);
    await y.data();
    y.dispose();
    expect(tf.memory().numTensors).toBe(n);
    tf.dispose([x, mask, ws.g, ws.b]);
    disposeLinearWeights(ws.q);
    disposeLinearWeights(ws.o);
  });
});

describe('the fused kernel names on cpu and wasm', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`${backend}: registered, and the same numbers as webgpu`, async () => {
      logs.length = 0;
      const compute = async () => {
        const ws = weights();
        const x = tf.tensor3d(randomArray(2 * 10 * 32, 9), [2, 10, 32]);
        const mask = tf.tensor2d(keyMask(2, 10, [10, 4]), [2, 10]);
        const y = block(ws)(x, mask);
        const v = await y.data();
        tf.dispose([y, x, mask, ws.g, ws.b]);
        disposeLinearWeights(ws.q);
        disposeLinearWeights(ws.o);
        return v;
      };
      const gpu = ready ? await compute() : null;
      const previous = tf.getBackend();
      await tf.setBackend(backend);
      for (const k of [LXMERT_ATTENTION, LXMERT_DENSE, LXMERT_ADD_LAYER_NORM]) {
        expect(tf.getKernel(k, backend)).toBeDefined();
      }
      const n = tf.memory().numTensors;
      const other = await compute();
      expect(tf.memory().numTensors).toBe(n);
      await tf.setBackend(previous);
      if (gpu) expect(relL2(other, gpu)).toBeLessThan(1e-5);
    });
  }
});
