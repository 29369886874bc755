/**
 * Linear weights in their storage formats: float32, float16 packed in int32 pairs, int8 packed
 * in int32 quads with per-row scales. makeLinearWeights turns host data into device tensors; the
 * WebGPU dense kernel reads the packed formats directly, the tf-op fallback uses a dequantized
 * float32 copy made once per weight (dequantizedWeight).
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError, formatShape } from '../src/errors.js';
import { quantizeInt8 as encodeInt8 } from '../src/weights/quantize.js';
import { fromHalfBits, toHalfBits } from './f16.js';
import type { WeightFormat } from './names.js';
import type { LinearWeights } from './types.js';

/** Host data of one Linear layer, HF layout ([out, in] row-major). */
export interface HostLinear {
  /** [out, in]. */
  shape: readonly [number, number];
  /** float32 values, or float16 bits, or int8 values with their per-row scales. */
  weight: Float32Array | { f16: Uint16Array } | { int8: Int8Array; scales: Float32Array };
  /** [out] float32. */
  bias: Float32Array;
}

/** How a LinearWeights stores its weight: a kernel format, or the transposed tf-op layout. */
export type StorageFormat = WeightFormat | 'f32-in-out';

/** Format of a LinearWeights (plain {weight, bias} is 'f32'). */
export function weightFormat(w: LinearWeights): StorageFormat {
  return w.format ?? 'f32';
}

/** [out, in] of a LinearWeights. */
export function linearShape(w: LinearWeights): [number, number] {
  if (w.format === 'f16' || w.format === 'int8') return [w.packed.shape[0], w.inFeatures];
  if (w.format === 'f32-in-out') return [w.kernel.shape[1], w.kernel.shape[0]];
  return [w.weight.shape[0], w.weight.shape[1]];
}

/** Every tensor a LinearWeights holds. */
export function linearTensors(w: LinearWeights): tf.Tensor[] {
  if (w.format === 'f16') return [w.packed, w.bias];
  if (w.format === 'int8') return [w.packed, w.scales, w.bias];
  if (w.format === 'f32-in-out') return [w.kernel, w.bias];
  return [w.weight, w.bias];
}

/** Bytes the weight and bias occupy on the device (4 bytes per stored int32/float32 element). */
export function linearWeightBytes(w: LinearWeights): number {
  return linearTensors(w).reduce((s, t) => s + t.size * 4, 0);
}

function hostFloat32(h: HostLinear): Float32Array {
  const [out, inF] = h.shape;
  const w = h.weight;
  if (w instanceof Float32Array) return w;
  if ('f16' in w) return Float32Array.from(w.f16, fromHalfBits);
  const f = new Float32Array(out * inF);
  for (let n = 0; n < out; n++) {
    const s = w.scales[n];
    for (let k = 0; k < inF; k++) f[n * inF + k] = w.int8[n * inF + k] * s;
  }
  return f;
}

/** float16 bits [out, in] → int32 words [out, ceil(in/2)]. */
export function packHalfPairs(bits: Uint16Array, out: number, inF: number): Int32Array {
  const words = Math.ceil(inF / 2);
  const packed = new Int32Array(out * words);
  for (let n = 0; n < out; n++) {
    for (let j = 0; j < words; j++) {
      const lo = bits[n * inF + 2 * j];
      const hi = 2 * j + 1 < inF ? bits[n * inF + 2 * j + 1] : 0;
      packed[n * words + j] = lo | (hi << 16);
    }
  }
  return packed;
}

/** int8 [out, in] → int32 words [out, ceil(in/4)]. */
export function packInt8Quads(q: Int8Array, out: number, inF: number): Int32Array {
  const words = Math.ceil(inF / 4);
  const packed = new Int32Array(out * words);
  for (let n = 0; n < out; n++) {
    for (let j = 0; j < words; j++) {
      let word = 0;
      for (let b = 0; b < 4; b++) {
        const k = 4 * j + b;
        if (k < inF) word |= (q[n * inF + k] & 0xff) << (8 * b);
      }
      packed[n * words + j] = word;
    }
  }
  return packed;
}

/**
 * Symmetric per-row int8 quantization, q = round(w / s), s = max|w_row| / 127: the converter's
 * (src/weights/quantize.ts), so re-quantizing a dequantized int8 model gives back its values.
 */
export function quantizeInt8(
  w: Float32Array,
  out: number,
  inF: number,
): { int8: Int8Array; scales: Float32Array } {
  const bytes = encodeInt8(w, out, inF); // `out` float32 scales, then the int8 values
  return {
    scales: new Float32Array(bytes.buffer, 0, out),
    int8: new Int8Array(bytes.buffer, out * 4, out * inF),
  };
}

/**
 * Device tensors for one Linear layer in `format`, from float32, float16 or int8 host data
 * (converting when they differ: f32→f16 rounds to nearest even, f32→int8 quantizes per row).
 * The tensors live on the active backend; dispose them with disposeLinearWeights.
 */
export function makeLinearWeights(host: HostLinear, format: StorageFormat = 'f32'): LinearWeights {
  const [out, inF] = host.shape;
  if (host.bias.length !== out) {
    throw new InputError('bias', `${out} values`, `${host.bias.length}`);
  }
  const w = host.weight;
  const count = w instanceof Float32Array ? w.length : 'f16' in w ? w.f16.length : w.int8.length;
  if (count !== out * inF) {
    throw new InputError(
      'weight',
      `${out * inF} values for ${formatShape([out, inF])}`,
      `${count}`,
    );
  }
  const bias = tf.tensor1d(host.bias, 'float32'); // after the checks: nothing leaks on error
  if (format === 'f32') {
    return { weight: tf.tensor2d(hostFloat32(host), [out, inF], 'float32'), bias };
  }
  if (format === 'f32-in-out') {
    return {
      format,
      kernel: tf.tensor2d(transposeHost(hostFloat32(host), out, inF), [inF, out]),
      bias,
    };
  }
  if (format === 'f16') {
    const bits = !(w instanceof Float32Array) && 'f16' in w ? w.f16 : halfBits(hostFloat32(host));
    const packed = tf.tensor2d(packHalfPairs(bits, out, inF), [out, Math.ceil(inF / 2)], 'int32');
    return { format: 'f16', packed, inFeatures: inF, bias };
  }
  const q =
    !(w instanceof Float32Array) && 'int8' in w ? w : quantizeInt8(hostFloat32(host), out, inF);
  const packed = tf.tensor2d(packInt8Quads(q.int8, out, inF), [out, Math.ceil(inF / 4)], 'int32');
  return {
    format: 'int8',
    packed,
    scales: tf.tensor1d(q.scales, 'float32'),
    inFeatures: inF,
    bias,
  };
}

/** [rows, cols] row-major → [cols, rows] row-major. */
function transposeHost(v: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(v.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) t[c * rows + r] = v[base + c];
  }
  return t;
}

function halfBits(values: Float32Array): Uint16Array {
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = toHalfBits(values[i]);
  return bits;
}

/** Decode packed words back to float32 [out, in] (host side). */
export function unpackWeights(
  format: 'f16' | 'int8',
  words: Int32Array,
  out: number,
  inF: number,
  scales?: Float32Array,
): Float32Array {
  const f = new Float32Array(out * inF);
  if (format === 'f16') {
    const perRow = Math.ceil(inF / 2);
    for (let n = 0; n < out; n++) {
      for (let k = 0; k < inF; k++) {
        const word = words[n * perRow + (k >> 1)];
        f[n * inF + k] = fromHalfBits(k & 1 ? (word >>> 16) & 0xffff : word & 0xffff);
      }
    }
    return f;
  }
  const perRow = Math.ceil(inF / 4);
  for (let n = 0; n < out; n++) {
    const s = scales ? scales[n] : 1;
    for (let k = 0; k < inF; k++) {
      const word = words[n * perRow + (k >> 2)];
      f[n * inF + k] = ((word << (24 - 8 * (k & 3))) >> 24) * s;
    }
  }
  return f;
}

const dequantized = new WeakMap<LinearWeights, tf.Tensor2D>();

/**
 * The float32 [out, in] weight of any LinearWeights: the tensor itself for 'f32', else a
 * dequantized copy made once (read back from the device) and kept until disposeLinearWeights.
 * Used by the tf-op path (WASM/CPU, and WebGPU with fused kernels off).
 */
export function dequantizedWeight(w: LinearWeights): tf.Tensor2D {
  if (w.format === 'f32-in-out') {
    throw new InputError('weights', "a [out, in] layout ('f32', 'f16' or 'int8')", "'f32-in-out'");
  }
  if (w.format !== 'f16' && w.format !== 'int8') return w.weight;
  let t = dequantized.get(w);
  if (!t || t.isDisposed) {
    const [out, inF] = linearShape(w);
    const words = w.packed.dataSync() as Int32Array;
    const scales = w.format === 'int8' ? (w.scales.dataSync() as Float32Array) : undefined;
    t = tf.keep(tf.tensor2d(unpackWeights(w.format, words, out, inF, scales), [out, inF]));
    dequantized.set(w, t);
  }
  return t;
}

/** Free the dequantized float32 copy of a LinearWeights, if one was made (keeps its tensors). */
export function releaseDequantized(w: LinearWeights): void {
  dequantized.get(w)?.dispose();
  dequantized.delete(w);
}

/** Dispose a LinearWeights' tensors and its dequantized copy, if any. */
export function disposeLinearWeights(w: LinearWeights): void {
  dequantized.get(w)?.dispose();
  dequantized.delete(w);
  tf.dispose(linearTensors(w));
}
