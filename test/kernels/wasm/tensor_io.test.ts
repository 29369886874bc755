/**
 * Tensors into and out of the WASM GEMM engine without JS arrays in between
 * (kernels/wasm/tensor_io.ts): on wasm, inputs are views of the backend's heap and results views
 * of the engine's memory that the backend copies when it makes the tensor. A result must stay
 * what it was after the engine reuses its memory for the next call; on other backends (which
 * keep the array they are given) the tensor gets a copy.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { attention, dense, splitProjections } from '../../../kernels/ops.js';
import { denseFallback } from '../../../kernels/fallback/dense.js';
import { gemmEngine } from '../../../kernels/wasm/gemm.js';
import { readFloats, tensorOf } from '../../../kernels/wasm/tensor_io.js';
import { disposeLinearWeights, makeLinearWeights } from '../../../kernels/weights.js';
import { useBackend } from '../../helpers/backends.js';
import { maxAbs, randomArray } from '../webgpu_env.js';

afterAll(async () => {
  await useBackend('wasm');
});

describe('WASM GEMM tensor I/O', () => {
  it('wasm: results survive the next calls, inputs are read from the heap', async () => {
    await useBackend('wasm');
    const [m, inF, out] = [20, 96, 64];
    const h = { shape: [out, inF] as [number, number], weight: randomArray(out * inF, 3, 0.2) };
    const w = makeLinearWeights({ ...h, bias: randomArray(out, 4, 0.5) }, 'wasm-gemm');
    const twin = makeLinearWeights({ ...h, bias: randomArray(out, 4, 0.5) }, 'f32-in-out');
    expect(w.format).toBe('wasm-gemm');
    const xs = [5, 6, 7].map((s) => tf.tensor2d(randomArray(m * inF, s, 1), [m, inF]));
    // a view of the backend's heap holds the tensor's values, not a copy
    const view = readFloats(xs[0]);
    expect(Array.from(view)).toEqual(Array.from(xs[0].dataSync()));
    const engine = gemmEngine()!;
    engine.startProfile();
    const ys = xs.map((x) => dense(x, w, 'gelu'));
    const refs = xs.map((x) => denseFallback(x, twin, 'gelu'));
    ys.forEach((y, i) => {
      expect(maxAbs(y.dataSync(), refs[i].dataSync()), `result ${i}`).toBeLessThan(1e-4);
    });
    expect(maxAbs(ys[0].dataSync(), ys[1].dataSync())).toBeGreaterThan(0.1);

    // attention: two calls, the first context unchanged by the second
    const [bq, l, hid, heads] = [1, 8, 32, 4];
    const qkv = [8, 9].map((s) =>
      tf.tensor3d(randomArray(bq * l * 3 * hid, s, 1), [bq, l, 3 * hid]),
    );
    const ctx = qkv.map((t) => {
      const [q, k, v] = splitProjections(t, 3);
      return attention(q, k, v, null, heads).context;
    });
    const first = ctx[0].dataSync().slice();
    const again = (() => {
      const [q, k, v] = splitProjections(qkv[0], 3);
      return attention(q, k, v, null, heads).context;
    })();
    expect(Array.from(again.dataSync())).toEqual(Array.from(first));
    expect(maxAbs(ctx[0].dataSync(), ctx[1].dataSync())).toBeGreaterThan(0.01);
    // 3 products and 3 attentions ran in the engine (one thread in Node)
    expect(engine.stopProfile()!.singleJobs).toBe(6);
    tf.dispose([...xs, ...ys, ...refs, ...qkv, ...ctx, again]);
    disposeLinearWeights(w);
    disposeLinearWeights(twin);
  });

  it('cpu: tensorOf copies (the backend keeps the array it is given)', async () => {
    await useBackend('cpu');
    const values = Float32Array.from([1, 2, 3, 4]);
    const t = tensorOf(values, [2, 2]);
    values.fill(0);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4]);
    expect(Array.from(readFloats(t))).toEqual([1, 2, 3, 4]);
    t.dispose();
  });
});
