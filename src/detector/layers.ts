/**
 * The detector's parameter-holding layers, loaded from HF state_dict names: Conv2d + eval
 * BatchNorm (folded at load), Conv2d with bias (RPN), Linear (predictor heads).
 *
 * BatchNorm folding: y = (conv(x, W) − mean) / sqrt(var + eps) · γ + β equals
 * conv(x, W · s) + (β − mean · s) with s = γ / sqrt(var + eps) per output channel. It is done
 * here, once, at load (in float64, then rounded to float32), so a checkpoint keeps HF's names and
 * the forward runs one fused conv+bias(+ReLU) per layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { toFloat32, type RawTensor } from '../codec/raw_tensor.js';

/** torch.nn.BatchNorm2d's default eps, which detectron2's BN keeps. */
export const BN_EPS = 1e-5;

export type Weights = ReadonlyMap<string, RawTensor>;

/** A convolution with its bias (BatchNorm folded in, or the conv's own bias). */
export interface Conv2dParams {
  /** [kh, kw, in, out] (tf.js layout). */
  filter: tf.Tensor4D;
  /** [out]. */
  bias: tf.Tensor1D;
  stride: number;
  /** Zero padding on every side (PyTorch's `padding`). */
  padding: number;
  dilation: number;
}

/** A Linear layer stored [in, out] for tf.matMul without a transpose. */
export interface LinearParams {
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

export function floats(weights: Weights, name: string): Float32Array {
  return toFloat32(weights.get(name)!, name);
}

/** torch [out, in, kh, kw] with per-output scale → tf [kh, kw, in, out]. */
function toFilter(w: Float32Array, shape: number[], scale: Float64Array | null): tf.Tensor4D {
  const [cout, cin, kh, kw] = shape;
  const out = new Float32Array(w.length);
  for (let o = 0; o < cout; o++) {
    const s = scale ? scale[o] : 1;
    for (let i = 0; i < cin; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          out[((y * kw + x) * cin + i) * cout + o] = w[((o * cin + i) * kh + y) * kw + x] * s;
        }
      }
    }
  }
  return tf.tensor4d(out, [kh, kw, cin, cout]);
}

/** `${prefix}.weight` with `${prefix}.norm.*` folded in (HF's Conv2d(norm=BatchNorm2d)). */
export function loadConvBn(
  weights: Weights,
  prefix: string,
  geometry: { stride?: number; padding?: number; dilation?: number } = {},
): Conv2dParams {
  const shape = weights.get(`${prefix}.weight`)!.shape;
  const gamma = floats(weights, `${prefix}.norm.weight`);
  const beta = floats(weights, `${prefix}.norm.bias`);
  const mean = floats(weights, `${prefix}.norm.running_mean`);
  const variance = floats(weights, `${prefix}.norm.running_var`);
  const scale = new Float64Array(gamma.length);
  const bias = new Float32Array(gamma.length);
  for (let o = 0; o < gamma.length; o++) {
    const f = Math.fround;
    scale[o] = f(gamma[o] / f(Math.sqrt(f(variance[o] + BN_EPS))));
    bias[o] = f(beta[o] - f(mean[o] * scale[o]));
  }
  return {
    filter: toFilter(floats(weights, `${prefix}.weight`), shape, scale),
    bias: tf.tensor1d(bias),
    stride: geometry.stride ?? 1,
    padding: geometry.padding ?? 0,
    dilation: geometry.dilation ?? 1,
  };
}

/** A plain Conv2d with bias (`${prefix}.weight`, `${prefix}.bias`). */
export function loadConv(weights: Weights, prefix: string, padding = 0): Conv2dParams {
  const shape = weights.get(`${prefix}.weight`)!.shape;
  return {
    filter: toFilter(floats(weights, `${prefix}.weight`), shape, null),
    bias: tf.tensor1d(floats(weights, `${prefix}.bias`)),
    stride: 1,
    padding,
    dilation: 1,
  };
}

/** nn.Linear `${prefix}.weight` [out, in] → kernel [in, out]. */
export function loadLinear(weights: Weights, prefix: string): LinearParams {
  const [out, inDim] = weights.get(`${prefix}.weight`)!.shape;
  const w = floats(weights, `${prefix}.weight`);
  const kernel = new Float32Array(w.length);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inDim; i++) kernel[i * out + o] = w[o * inDim + i];
  return {
    kernel: tf.tensor2d(kernel, [inDim, out]),
    bias: tf.tensor1d(floats(weights, `${prefix}.bias`)),
  };
}

/** conv(x) + bias, optionally ReLU: one fused tf.js conv. x is NHWC. */
export function conv2d(x: tf.Tensor4D, c: Conv2dParams, relu: boolean): tf.Tensor4D {
  const p = c.padding;
  return tf.fused.conv2d({
    x,
    filter: c.filter,
    strides: c.stride,
    pad:
      p === 0
        ? 'valid'
        : [
            [0, 0],
            [p, p],
            [p, p],
            [0, 0],
          ],
    dilations: c.dilation,
    bias: c.bias,
    activation: relu ? 'relu' : 'linear',
  });
}

/** x · kernel + bias over the last axis of a [N, in] tensor. */
export function linear(x: tf.Tensor2D, l: LinearParams): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: l.kernel, bias: l.bias }) as tf.Tensor2D;
}

export function disposeConv(c: Conv2dParams): void {
  tf.dispose([c.filter, c.bias]);
}
