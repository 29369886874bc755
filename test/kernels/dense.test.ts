/** Dense + bias + activation on WebGPU (f32, packed f16, packed int8) against the tf-op fallback. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseWebGPU } from '../../src/backend.js';
import { denseFallback } from '../../kernels/fallback/dense.js';
import { DENSE_VARIANT_FLAG, MAX_BINDING_BYTES_FLAG, dense } from '../../kernels/ops.js';
import { gpuMemory, trackDispatches } from '../../kernels/runtime/dispatch_counter.js';
import type { Activation } from '../../kernels/types.js';
import {
  disposeLinearWeights,
  linearWeightBytes,
  makeLinearWeights,
  type HostLinear,
} from '../../kernels/weights.js';
import { f32ToF16Bits } from '../../src/codec/float16.js';
import { quantizeInt8 } from '../../src/codec/int8.js';
import { maxAbs, onCpu, randomArray, relL2, useWebGPU } from './webgpu_env.js';

let ready = false;
beforeAll(async () => {
  ready = (await useWebGPU()) !== null;
});
afterAll(async () => {
  await releaseWebGPU();
});

/** Host weights for out × in, in the requested storage form (f16 bits / int8 + scales). */
function host(out: number, inF: number, form: 'f32' | 'f16' | 'int8', seed: number): HostLinear {
  const w = randomArray(out * inF, seed, 0.3);
  const bias = randomArray(out, seed + 1, 0.5);
  if (form === 'f16')
    return { shape: [out, inF], weight: { f16: Uint16Array.from(w, f32ToF16Bits) }, bias };
  if (form === 'int8') return { shape: [out, inF], weight: quantizeInt8(w, out, inF), bias };
  return { shape: [out, inF], weight: w, bias };
}

const CASES: {
  format: 'f32' | 'f16' | 'int8';
  act: Activation;
  m: [number, ...number[]];
  inF: number;
  out: number;
}[] = [
  { format: 'f32', act: 'linear', m: [2, 13], inF: 64, out: 40 },
  { format: 'f32', act: 'gelu', m: [10], inF: 37, out: 33 },
  { format: 'f16', act: 'gelu', m: [2, 13], inF: 64, out: 128 },
  { format: 'f16', act: 'tanh', m: [3], inF: 45, out: 7 },
  { format: 'int8', act: 'linear', m: [2, 10], inF: 64, out: 48 },
  { format: 'int8', act: 'relu', m: [5], inF: 30, out: 9 },
  { format: 'f32', act: 'gelu_new', m: [4], inF: 16, out: 16 },
  { format: 'f32', act: 'sigmoid', m: [4], inF: 16, out: 16 },
  // More than 64 rows: the tiled variant (the others use the skinny one).
  { format: 'f32', act: 'gelu', m: [2, 36], inF: 40, out: 35 },
  { format: 'f16', act: 'linear', m: [70], inF: 64, out: 33 },
  { format: 'int8', act: 'quick_gelu', m: [3, 30], inF: 36, out: 40 },
];

describe('LxmertDense (webgpu) vs fallback', () => {
  for (const c of CASES) {
    const rows = c.m.reduce((a, b) => a * b, 1);
    const variants = rows <= 64 ? (['tiled', 'skinny'] as const) : (['tiled'] as const);
    for (const variant of variants) {
      it(`${c.format} ${c.act} [${c.m.join(', ')}, ${c.inF}] → ${c.out}, ${variant}`, async ({
        skip,
      }) => {
        if (!ready) skip();
        const h = host(c.out, c.inF, c.format, c.out + c.inF);
        const xs = randomArray(rows * c.inF, 11, 2);
        const shape = [...c.m, c.inF];
        // Oracle: the same stored weights dequantized to float32 on the host, tf ops on cpu.
        const [ref] = await onCpu(() => {
          const w = makeLinearWeights(h, c.format);
          const y = denseFallback(tf.tensor(xs, shape), w, c.act);
          disposeLinearWeights(w);
          return y;
        });
        const w = makeLinearWeights(h, c.format);
        const x = tf.tensor(xs, shape);
        tf.env().set(DENSE_VARIANT_FLAG, variant);
        const counter = trackDispatches();
        const y = dense(x, w, c.act);
        tf.env().set(DENSE_VARIANT_FLAG, 'auto');
        expect(counter.stop().byProgram).toEqual({ DenseProgram: 1 });
        expect(y.shape).toEqual([...c.m, c.out]);
        const got = await y.data();
        expect(relL2(got, ref)).toBeLessThan(1e-5);
        expect(maxAbs(got, ref)).toBeLessThan(1e-4);
        tf.dispose([x, y]);
        disposeLinearWeights(w);
      });
    }
  }

  it('keeps packed weights compact on the GPU: f16 half, int8 a quarter of f32', async ({
    skip,
  }) => {
    if (!ready) skip();
    const sizes = (['f32', 'f16', 'int8'] as const).map((f) => {
      const w = makeLinearWeights(host(96, 64, 'f32', 5), f);
      const bytes = linearWeightBytes(w) - 96 * 4 * (f === 'int8' ? 2 : 1);
      disposeLinearWeights(w);
      return bytes;
    });
    expect(sizes).toEqual([96 * 64 * 4, 96 * 64 * 2, 96 * 64]);
    // After a forward the GPU holds the packed words only: no float32 copy of the weight.
    const w = makeLinearWeights(host(96, 64, 'f32', 5), 'int8');
    const x = tf.tensor(randomArray(13 * 64, 3), [13, 64]);
    const before = gpuMemory()!.bytesInUse;
    const y = dense(x, w);
    await y.data();
    const after = gpuMemory()!.bytesInUse;
    // x (13·64·4) + packed int8 (96·16·4) + scales + bias (2·96·4) + y (13·96·4), no 96·64·4 copy.
    expect(after - before).toBeLessThanOrEqual(
      13 * 64 * 4 + 96 * 16 * 4 + 2 * 96 * 4 + 13 * 96 * 4 + 256,
    );
    tf.dispose([x, y]);
    disposeLinearWeights(w);
  });
});

describe('weights over maxStorageBufferBindingSize', () => {
  it('run in blocks that fit, same answer', async ({ skip }) => {
    if (!ready) skip();
    const h = host(50, 24, 'f32', 3);
    const xs = randomArray(6 * 24, 4);
    const [ref] = await onCpu(() => {
      const w = makeLinearWeights(h, 'int8');
      const y = denseFallback(tf.tensor(xs, [6, 24]), w, 'gelu');
      disposeLinearWeights(w);
      return y;
    });
    const w = makeLinearWeights(h, 'int8');
    const x = tf.tensor(xs, [6, 24]);
    tf.env().set(MAX_BINDING_BYTES_FLAG, 16 * 6 * 4); // 16 rows of 6 packed words
    const counter = trackDispatches();
    const y = dense(x, w, 'gelu');
    tf.env().set(MAX_BINDING_BYTES_FLAG, 0);
    expect(counter.stop().byProgram.DenseProgram).toBe(4);
    expect(relL2(await y.data(), ref)).toBeLessThan(1e-5);
    tf.dispose([x, y]);
    disposeLinearWeights(w);
  });
});
