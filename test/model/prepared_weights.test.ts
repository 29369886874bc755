/**
 * preparedWeightSource on wasm: weights made as they stream in keep the storage the kernels
 * read (float16 stays float16 in the WASM GEMM's memory; LayerNorm parameters become float32
 * tensors), and what it makes computes what the float32 weights compute.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { dense } from '../../kernels/ops.js';
import { denseFallback } from '../../kernels/fallback/dense.js';
import { disposeLinearWeights, makeLinearWeights } from '../../kernels/weights.js';
import { decodeFloat16, f32ToF16Bits } from '../../src/codec/float16.js';
import type { RawTensor } from '../../src/codec/raw_tensor.js';
import { preparedWeightSource } from '../../src/model/weight_source.js';
import { useBackend } from '../helpers/backends.js';
import { maxAbs, randomArray } from '../kernels/webgpu_env.js';

beforeAll(async () => {
  await useBackend('wasm');
});

function f16Raw(values: Float32Array, shape: number[]): RawTensor {
  const bits = Uint16Array.from(values, f32ToF16Bits);
  return { dtype: 'F16', shape, bytes: new Uint8Array(bits.buffer) };
}

describe('preparedWeightSource (wasm)', () => {
  it('float16 query/key/value become one GEMM Linear stored as float16; LayerNorm as float32', () => {
    const H = 16;
    const p = 'lxmert.encoder.layer.0.attention.self';
    const src = preparedWeightSource('test', 'wasm-gemm');
    const start = tf.memory().numTensors;
    const parts = ['query', 'key', 'value'].map((n, i) => ({
      name: `${p}.${n}`,
      w: randomArray(H * H, 10 + i, 0.3),
      b: randomArray(H, 20 + i, 0.5),
    }));
    for (const { name, w, b } of parts) {
      src.add(`${name}.weight`, f16Raw(w, [H, H]));
      src.add(`${name}.bias`, f16Raw(b, [H]));
    }
    const ln = 'lxmert.encoder.layer.0.attention.output.LayerNorm.weight';
    src.add(ln, f16Raw(randomArray(H, 30, 1), [H]));

    const lw = src.takeLinear!(
      parts.map((q) => q.name),
      [3 * H, H],
    );
    if (!lw || lw.format !== 'wasm-gemm') throw new Error(`format ${lw?.format}`);
    expect(lw.packed.dtype, 'float16 kept packed in the GEMM memory').toBe('f16');
    expect(
      src.takeLinear!(
        parts.map((q) => q.name),
        [3 * H, H],
      ),
      'taken once',
    ).toBeUndefined();
    const gain = src.takeTensor!(ln, [H]);
    expect(gain?.dtype).toBe('float32');

    // The same numbers as the float16 values widened independently, through the tf-op path.
    const wide = (x: Float32Array) => decodeFloat16(Uint16Array.from(x, f32ToF16Bits));
    const cat = (k: 'w' | 'b') => Float32Array.from(parts.flatMap((q) => [...wide(q[k])]));
    const twin = makeLinearWeights(
      { shape: [3 * H, H], weight: cat('w'), bias: cat('b') },
      'f32-in-out',
    );
    const x = tf.tensor(randomArray(5 * H, 40, 1), [5, H]);
    const got = dense(x, lw, 'linear');
    const want = denseFallback(x, twin, 'linear');
    expect(maxAbs(got.dataSync(), want.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, got, want, gain!]);
    disposeLinearWeights(lw);
    disposeLinearWeights(twin);
    src.release();
    expect(tf.memory().numTensors, 'tensors left').toBe(start);
  });
});
