/** Linear layer + activation as plain tf ops (fallback and oracle of the fused dense kernel). */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../src/errors.js';
import type { Activation, LinearWeights } from '../types.js';
import { dequantizedWeight } from '../weights.js';

const SQRT_HALF = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** HF ACT2FN activations. `gelu` is the exact erf GELU. */
export function activate(x: tf.Tensor, act: Activation): tf.Tensor {
  return tf.tidy(() => {
    switch (act) {
      case 'linear':
        return x;
      case 'gelu':
        return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, SQRT_HALF))));
      case 'gelu_new': {
        const inner = tf.mul(SQRT_2_OVER_PI, tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
        return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
      }
      case 'gelu_fast': {
        const inner = tf.mul(tf.mul(x, 0.7978845608), tf.add(1, tf.mul(tf.mul(x, x), 0.044715)));
        return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
      }
      case 'quick_gelu':
        return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
      case 'relu':
        return tf.relu(x);
      case 'silu':
        return tf.mul(x, tf.sigmoid(x));
      case 'tanh':
        return tf.tanh(x);
      case 'sigmoid':
        return tf.sigmoid(x);
    }
  });
}

/**
 * y = act(x · Wᵀ + b) for x of any rank ≥ 2 ([..., in] → [..., out]). Packed f16/int8 weights
 * are used through their dequantized float32 copy (made once, see dequantizedWeight).
 */
export function denseFallback(
  x: tf.Tensor,
  w: LinearWeights,
  act: Activation = 'linear',
): tf.Tensor {
  return tf.tidy(() => {
    if (w.format === 'f32-in-out') {
      const [inDim, out] = w.kernel.shape;
      const x2 = tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
      // Bias fused into the matMul: correct on every backend without transposeB.
      const y = tf.fused.matMul({ a: x2, b: w.kernel, bias: w.bias }); // [M, out]
      return tf.reshape(activate(y, act), [...x.shape.slice(0, -1), out]);
    }
    if (w.format === 'wasm-gemm') {
      throw new InputError('weights', 'weights held as tf tensors', "'wasm-gemm' (kernel memory)");
    }
    const weight = dequantizedWeight(w); // [out, in] float32
    const [out, inDim] = weight.shape;
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
    // Not tf.fused.matMul with `bias`: tfjs-backend-wasm 4.22 adds the bias wrongly when
    // transposeB is set (test/kernels/fallback/dense.test.ts pins it).
    const y = tf.add(tf.matMul(x2, weight, false, true), w.bias);
    return tf.reshape(activate(y, act), [...lead, out]);
  });
}
