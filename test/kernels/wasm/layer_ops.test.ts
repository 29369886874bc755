/**
 * The WASM module's layer ops against their tf-op twins on the wasm backend: the dense with GELU
 * in the GEMM epilogue (denseFallback), dense + residual + LayerNorm in one call
 * (addLayerNormFallback ∘ denseFallback), attention at lxmert-base head width
 * (attentionFallback); and the same ops split across helper threads (Node worker_threads on
 * shared memory standing in for the page's Blob workers), which must give the one-thread
 * results bit for bit and match the twins.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { denseAddLayerNorm, dense, attention, splitProjections } from '../../../kernels/ops.js';
import { attentionFallback } from '../../../kernels/fallback/attention.js';
import { addLayerNormFallback } from '../../../kernels/fallback/add_layer_norm.js';
import { denseFallback } from '../../../kernels/fallback/dense.js';
import { createGemmEngine, GemmEngine, gemmIsa } from '../../../kernels/wasm/gemm.js';
import {
  disposeLinearWeights,
  makeLinearWeights,
  type HostLinear,
} from '../../../kernels/weights.js';
import { MASK_MIN } from '../../../src/model/index.js';
import { decodeFloat16, f32ToF16Bits } from '../../../src/codec/float16.js';
import { useBackend } from '../../helpers/backends.js';
import { maxAbs, randomArray } from '../webgpu_env.js';
import { nodeHelper } from '../../helpers/wasm_threads.js';

beforeAll(async () => {
  await useBackend('wasm');
});

function host(out: number, inF: number, seed: number, scale = 0.3): HostLinear {
  return {
    shape: [out, inF],
    weight: randomArray(out * inF, seed, scale),
    bias: randomArray(out, seed + 1, 0.5),
  };
}

describe('WASM layer ops vs tf ops', () => {
  it.each([
    { m: [1, 20], inF: 64, out: 768 },
    { m: [2, 7], inF: 33, out: 12 },
    { m: [1, 36], inF: 3072, out: 768 },
  ])('dense + residual + LayerNorm, x $m × [$out, $inF]: within 2e-5', ({ m, inF, out }) => {
    const h = host(out, inF, inF + out);
    const packed = makeLinearWeights(h, 'wasm-gemm');
    const twin = makeLinearWeights(h, 'f32-in-out');
    const rows = m.reduce((a, b) => a * b, 1);
    const x = tf.tensor(randomArray(rows * inF, 3, 1), [...m, inF]);
    const residual = tf.tensor(randomArray(rows * out, 4, 2), [...m, out]);
    const gamma = tf.tensor1d(randomArray(out, 5, 1));
    const beta = tf.tensor1d(randomArray(out, 6, 1));
    const before = tf.memory().numTensors;
    const epilogue = (): tf.Tensor2D => {
      throw new Error('the WebGPU kernel epilogue is not read on wasm');
    };
    const got = denseAddLayerNorm(x, residual, [{ linear: packed, gamma, beta, epilogue }], rows);
    expect(tf.memory().numTensors, 'only the output is new').toBe(before + 1);
    const want = tf.tidy(() =>
      addLayerNormFallback(denseFallback(x, twin, 'linear'), residual, gamma, beta, 1e-12),
    );
    expect(got.shape).toEqual([...m, out]);
    expect(maxAbs(got.dataSync(), want.dataSync())).toBeLessThan(2e-5);
    tf.dispose([x, residual, gamma, beta, got, want]);
    disposeLinearWeights(packed);
    disposeLinearWeights(twin);
  });

  it('GELU in the epilogue over [-12, 12] (erf fit, tails): within 1e-5 of tf.erf', () => {
    const h = host(40, 8, 77, 3);
    const packed = makeLinearWeights(h, 'wasm-gemm');
    const twin = makeLinearWeights(h, 'f32-in-out');
    const x = tf.tensor2d(randomArray(5 * 8, 8, 1), [5, 8]);
    const got = dense(x, packed, 'gelu');
    const want = denseFallback(x, twin, 'gelu');
    const pre = denseFallback(x, twin, 'linear').dataSync();
    expect(Math.max(...pre.map(Math.abs)), 'inputs reach the tails').toBeGreaterThan(6);
    const [g, w] = [got.dataSync(), want.dataSync()];
    for (let i = 0; i < g.length; i++)
      expect(Math.abs(g[i] - w[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(w[i])));
    tf.dispose([x, got, want]);
    disposeLinearWeights(packed);
    disposeLinearWeights(twin);
  });

  it.each([
    { m: [1, 20], inF: 768, out: 296, act: 'linear' as const },
    { m: [2, 7], inF: 33, out: 13, act: 'gelu' as const },
    { m: [8], inF: 64, out: 24, act: 'gelu' as const },
  ])(
    'float16 weights stay float16 in the module (half the bytes), x $m × [$out, $inF], $act',
    ({ m, inF, out, act }) => {
      const values = randomArray(out * inF, 51, 0.3);
      values[0] = 3e-6; // a float16 subnormal
      values[1] = -65504; // the largest float16, negative
      const bits = Uint16Array.from(values, f32ToF16Bits);
      const bias = randomArray(out, 52, 0.5);
      const packed = makeLinearWeights(
        { shape: [out, inF], weight: { f16: bits }, bias },
        'wasm-gemm',
      );
      const wide = { shape: [out, inF] as const, weight: decodeFloat16(bits), bias };
      const twin = makeLinearWeights(wide, 'f32-in-out');
      const asF32 = makeLinearWeights(wide, 'wasm-gemm');
      if (packed.format !== 'wasm-gemm' || asF32.format !== 'wasm-gemm') throw new Error('format');
      expect(packed.packed.dtype).toBe('f16');
      expect(packed.packed.bytes).toBeLessThan(0.55 * asF32.packed.bytes);
      const rows = m.reduce((a, b) => a * b, 1);
      const x = tf.tensor(randomArray(rows * inF, 53, 1), [...m, inF]);
      const got = dense(x, packed, act);
      const want = denseFallback(x, twin, act);
      const exact = dense(x, asF32, act);
      expect(maxAbs(got.dataSync(), want.dataSync())).toBeLessThan(1e-5 * 65504);
      expect(got.dataSync(), 'same values as the float32 packing').toEqual(exact.dataSync());
      tf.dispose([x, got, want, exact]);
      [packed, twin, asF32].forEach(disposeLinearWeights);
    },
  );

  it('attention at lxmert-base head width (12 × 64), 20 → 36, masked: within 1e-5', () => {
    const [b, lq, lk, heads, h] = [1, 20, 36, 12, 768];
    const pq = tf.tensor3d(randomArray(b * lq * 3 * h, 21, 1), [b, lq, 3 * h]);
    const pk = tf.tensor3d(randomArray(b * lk * 3 * h, 22, 1), [b, lk, 3 * h]);
    const mask = tf.tensor2d(
      Array.from({ length: lk }, (_, j) => (j >= 30 ? MASK_MIN : 0)),
      [b, lk],
    );
    const [q] = splitProjections(pq, 3);
    const [, k, v] = splitProjections(pk, 3);
    const got = attention(q, k, v, mask, heads).context;
    const cols = (t: tf.Tensor3D, o: number) => tf.slice(t, [0, 0, o], [-1, -1, h]);
    const want = attentionFallback(cols(pq, 0), cols(pk, h), cols(pk, 2 * h), mask, heads, false);
    expect(maxAbs(got.dataSync(), want.context.dataSync())).toBeLessThan(1e-5);
    tf.dispose([pq, pk, mask, got, want.context]);
  });
});

describe('WASM layer ops on helper threads', () => {
  const engines: GemmEngine[] = [];
  afterAll(() => engines.forEach((e) => e.close()));

  function engine(threads: number): GemmEngine {
    const e = createGemmEngine(gemmIsa()!, threads, nodeHelper);
    engines.push(e);
    return e;
  }

  it('3 threads give the 1-thread results bit for bit, and match the tf-op twins', async () => {
    const [one, three] = [engine(1), engine(3)];
    expect(await three.whenReady(20000)).toBe(3);
    const [m, inF, out] = [36, 768, 1536];
    const w = randomArray(out * inF, 31, 0.05);
    const bias = randomArray(out, 32, 0.5);
    const x = randomArray(m * inF, 33, 1);
    const [p1, p3] = [one.pack(w, bias, out, inF), three.pack(w, bias, out, inF)];
    const single = one.run(x, m, p1, 'gelu');
    for (let rep = 0; rep < 20 && (rep < 3 || three.helperUnits === 0); rep++) {
      expect(three.run(x, m, p3, 'gelu')).toEqual(single);
    }
    expect(three.helperUnits, 'the helpers took part').toBeGreaterThan(0);
    const twin = makeLinearWeights({ shape: [out, inF], weight: w, bias }, 'f32-in-out');
    const xt = tf.tensor2d(x, [m, inF]);
    const want = denseFallback(xt, twin, 'gelu');
    expect(maxAbs(three.run(x, m, p3, 'gelu'), want.dataSync())).toBeLessThan(1e-4);
    tf.dispose([xt, want]);
    disposeLinearWeights(twin);

    // float16 weights: each thread widens its panels into its own buffer
    const bits = Uint16Array.from(w, f32ToF16Bits);
    const [h1, h3] = [one.pack(bits, bias, out, inF), three.pack(bits, bias, out, inF)];
    expect(three.run(x, m, h3, 'gelu')).toEqual(one.run(x, m, h1, 'gelu'));

    // dense + residual + LayerNorm, out → 768
    const w2 = randomArray(768 * out, 34, 0.02);
    const b2 = randomArray(768, 35, 0.5);
    const [q1, q3] = [one.pack(w2, b2, 768, out), three.pack(w2, b2, 768, out)];
    const y = randomArray(m * out, 36, 1);
    const r = randomArray(m * 768, 37, 1);
    const [g, b] = [randomArray(768, 38, 1), randomArray(768, 39, 1)];
    expect(three.denseAddLayerNorm(y, m, q3, r, g, b, 1e-12)).toEqual(
      one.denseAddLayerNorm(y, m, q1, r, g, b, 1e-12),
    );

    // attention, 2 batch rows × 12 heads split across the threads
    const [bq, lq, lk, h] = [2, 20, 36, 768];
    const qd = randomArray(bq * lq * 3 * h, 40, 1);
    const kd = randomArray(bq * lk * 3 * h, 41, 1);
    const md = Float32Array.from({ length: bq * lk }, (_, i) => (i % lk > 31 ? MASK_MIN : 0));
    const ops = (e: GemmEngine) =>
      e.attention(
        { data: qd, ld: 3 * h, offset: 0 },
        { data: kd, ld: 3 * h, offset: h },
        { data: kd, ld: 3 * h, offset: 2 * h },
        md,
        { b: bq, lq, lk, heads: 12, h },
      );
    const got = ops(three);
    expect(got).toEqual(ops(one));
    const pq = tf.tensor3d(qd, [bq, lq, 3 * h]);
    const pk = tf.tensor3d(kd, [bq, lk, 3 * h]);
    const mask = tf.tensor2d(md, [bq, lk]);
    const cols = (t: tf.Tensor3D, o: number) => tf.slice(t, [0, 0, o], [-1, -1, h]);
    const ref = attentionFallback(cols(pq, 0), cols(pk, h), cols(pk, 2 * h), mask, 12, false);
    expect(maxAbs(got, ref.context.dataSync())).toBeLessThan(1e-5);
    tf.dispose([pq, pk, mask, ref.context]);
  }, 60000);

  it('helpers that spin between jobs give the same results and go idle when jobs stop', async () => {
    const [one, two] = [engine(1), engine(2)];
    expect(await two.whenReady(20000)).toBe(2);
    two.spinMicros = 2000;
    expect(two.spinMicros).toBe(2000);
    const [m, inF, out] = [20, 768, 768];
    const w = randomArray(out * inF, 51, 0.05);
    const bias = randomArray(out, 52, 0.5);
    const x = randomArray(m * inF, 53, 1);
    const [p1, p2] = [one.pack(w, bias, out, inF), two.pack(w, bias, out, inF)];
    const single = one.run(x, m, p1, 'gelu');
    two.startProfile();
    for (let rep = 0; rep < 20; rep++) expect(two.run(x, m, p2, 'gelu')).toEqual(single);
    const profile = two.stopProfile()!;
    expect(profile.gemmJobs).toBe(20);
    expect(profile.units).toBe(20 * p2.panels);
    // Bounded: 2 ms after the last job the helper blocks. An unbounded spinner would keep a
    // core busy (≈ 1 core) through this idle half second.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [cpu0, t0] = [process.cpuUsage(), performance.now()];
    await new Promise((resolve) => setTimeout(resolve, 500));
    const cpu = process.cpuUsage(cpu0);
    const cores = (cpu.user + cpu.system) / 1000 / (performance.now() - t0);
    expect(cores).toBeLessThan(0.5);
  }, 60000);
});
