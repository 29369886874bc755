/**
 * Dense on the WASM GEMM kernel: act(x · Wᵀ + b) for x [..., in] with 'wasm-gemm' weights. The
 * activation runs as tf ops (kernels/fallback/dense.ts activate), the product and bias in the
 * kernel. Its tf-op twin is denseFallback on the same weights in 'f32-in-out' storage
 * (test/kernels/wasm_gemm.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError, formatShape } from '../../src/errors.js';
import { activate } from '../fallback/dense.js';
import type { Activation, GemmLinearWeights } from '../types.js';
import { gemmEngine } from './gemm.js';

export function gemmDense(x: tf.Tensor, w: GemmLinearWeights, act: Activation): tf.Tensor {
  const { inFeatures: inF, outFeatures: out } = w.packed;
  if (x.dtype !== 'float32' || x.rank < 2 || x.shape[x.rank - 1] !== inF) {
    throw new InputError('x', `float32 [..., ${inF}]`, `${x.dtype} ${formatShape(x.shape)}`);
  }
  const engine = gemmEngine();
  if (!engine) throw new Error('WASM GEMM weights without a GEMM engine');
  const m = x.size / inF;
  const y = engine.run(x.dataSync() as Float32Array, m, w.packed); // [m, out]
  return tf.tidy(() => activate(tf.tensor(y, [...x.shape.slice(0, -1), out], 'float32'), act));
}
