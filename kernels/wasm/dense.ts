/**
 * Dense on the WASM GEMM kernel: act(x · Wᵀ + b) for x [..., in] with 'wasm-gemm' weights. The
 * product, bias and GELU run in the kernel (other activations as tf ops, kernels/fallback/dense.ts
 * activate); gemmDenseAddLayerNorm adds the residual and the LayerNorm in the module too. Their
 * tf-op twins are denseFallback / addLayerNormFallback on the same weights in 'f32-in-out'
 * storage (test/kernels/wasm/gemm.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError, formatShape } from '../../src/errors.js';
import { activate } from '../fallback/dense.js';
import type { Activation, GemmLinearWeights } from '../types.js';
import { gemmEngine } from './gemm.js';
import { readFloats, tensorOf } from './tensor_io.js';

function checkInput(x: tf.Tensor, inF: number): void {
  if (x.dtype !== 'float32' || x.rank < 2 || x.shape[x.rank - 1] !== inF) {
    throw new InputError('x', `float32 [..., ${inF}]`, `${x.dtype} ${formatShape(x.shape)}`);
  }
}

function engineOrThrow() {
  const engine = gemmEngine();
  if (!engine) throw new Error('WASM GEMM weights without a GEMM engine');
  return engine;
}

export function gemmDense(x: tf.Tensor, w: GemmLinearWeights, act: Activation): tf.Tensor {
  const { inFeatures: inF, outFeatures: out } = w.packed;
  checkInput(x, inF);
  const engine = engineOrThrow();
  const t0 = performance.now();
  const m = x.size / inF;
  const inKernel = act === 'gelu' || act === 'linear';
  const y = engine.run(readFloats(x), m, w.packed, act === 'gelu' ? 'gelu' : 'linear', {
    view: true,
  });
  const shape = [...x.shape.slice(0, -1), out];
  const t = tensorOf(y, shape);
  engine.count('hooksMs', t0);
  if (inKernel) return t;
  return tf.tidy(() => {
    const a = activate(t, act);
    t.dispose();
    return a;
  });
}

/** Whether gemmDenseAddLayerNorm takes this layer (the module normalizes 4 floats at a time). */
export function gemmAddLayerNormFits(w: GemmLinearWeights): boolean {
  return w.packed.outFeatures % 4 === 0;
}

/** LayerNorm(x · Wᵀ + b + residual) · gamma + beta, all in the WASM module. */
export function gemmDenseAddLayerNorm(
  x: tf.Tensor,
  w: GemmLinearWeights,
  residual: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): tf.Tensor {
  const { inFeatures: inF, outFeatures: out } = w.packed;
  checkInput(x, inF);
  const shape = [...x.shape.slice(0, -1), out];
  if (residual.dtype !== 'float32' || residual.shape.join() !== shape.join()) {
    throw new InputError(
      'residual',
      `float32 ${formatShape(shape)}`,
      `${residual.dtype} ${formatShape(residual.shape)}`,
    );
  }
  if (gamma.size !== out || beta.size !== out) {
    throw new InputError('gamma/beta', `${out} values each`, `${gamma.size} and ${beta.size}`);
  }
  const engine = engineOrThrow();
  const t0 = performance.now();
  const y = engine.denseAddLayerNorm(
    readFloats(x),
    x.size / inF,
    w.packed,
    readFloats(residual),
    readFloats(gamma),
    readFloats(beta),
    eps,
    { view: true },
  );
  const t = tensorOf(y, shape);
  engine.count('hooksMs', t0);
  return t;
}
