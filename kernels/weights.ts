/**
 * Linear weights in their storage formats: float32, float16 packed in int32 pairs, int8 packed
 * in int32 quads with per-row scales (the word layouts of src/codec/gpu_words.ts).
 * makeLinearWeights turns host data into device tensors; the WebGPU dense kernel reads the packed
 * formats directly, the tf-op fallback uses a dequantized float32 copy made once per weight
 * (dequantizedWeight).
 */
import * as tf from '@tensorflow/tfjs-core';
import { f32ToF16Bits } from '../src/codec/float16.js';
import { packHalfPairs, packInt8Quads, unpackWords, wordsPerRow } from '../src/codec/gpu_words.js';
import { hostFloat32, hostValueCount, type HostValues } from '../src/codec/host_values.js';
import { quantizeInt8 } from '../src/codec/int8.js';
import { InputError, formatShape } from '../src/errors.js';
import type { WeightFormat } from './names.js';
import type { LinearWeights } from './types.js';
import { gemmEngine } from './wasm/gemm.js';

/** Host data of one Linear layer, HF layout ([out, in] row-major). */
export interface HostLinear {
  /** [out, in]. */
  shape: readonly [number, number];
  /** float32 values, or float16 bits, or int8 values with their per-row scales. */
  weight: HostValues;
  /** [out] float32. */
  bias: Float32Array;
}

/**
 * How a LinearWeights stores its weight: a WebGPU kernel format, the transposed tf-op layout, or
 * packed for the WASM GEMM kernel.
 */
export type StorageFormat = WeightFormat | 'f32-in-out' | 'wasm-gemm';

/** [out, in] of a LinearWeights. */
export function linearShape(w: LinearWeights): [number, number] {
  if (w.format === 'f16' || w.format === 'int8') return [w.packed.shape[0], w.inFeatures];
  if (w.format === 'f32-in-out') return [w.kernel.shape[1], w.kernel.shape[0]];
  if (w.format === 'wasm-gemm') return [w.packed.outFeatures, w.packed.inFeatures];
  return [w.weight.shape[0], w.weight.shape[1]];
}

/** Every tensor a LinearWeights holds (none for 'wasm-gemm': its memory is the kernel's). */
export function linearTensors(w: LinearWeights): tf.Tensor[] {
  if (w.format === 'wasm-gemm') return [];
  if (w.format === 'f16') return [w.packed, w.bias];
  if (w.format === 'int8') return [w.packed, w.scales, w.bias];
  if (w.format === 'f32-in-out') return [w.kernel, w.bias];
  return [w.weight, w.bias];
}

/** Bytes the weight and bias occupy on the device (4 bytes per stored int32/float32 element). */
export function linearWeightBytes(w: LinearWeights): number {
  if (w.format === 'wasm-gemm') return w.packed.bytes;
  return linearTensors(w).reduce((s, t) => s + t.size * 4, 0);
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
  const count = hostValueCount(w);
  if (count !== out * inF) {
    throw new InputError(
      'weight',
      `${out * inF} values for ${formatShape([out, inF])}`,
      `${count}`,
    );
  }
  if (format === 'wasm-gemm') {
    const engine = gemmEngine();
    if (engine) {
      // float16 stays float16 in the kernel's memory, int8 stays int8 (+ its row scales)
      const packed =
        w instanceof Float32Array
          ? engine.pack(w, host.bias, out, inF)
          : 'f16' in w
            ? engine.pack(w.f16, host.bias, out, inF)
            : engine.packInt8(w, host.bias, out, inF);
      return { format, packed };
    }
    format = 'f32-in-out'; // no WASM SIMD here: the tf-op layout
  }
  const bias = tf.tensor1d(host.bias, 'float32'); // after the checks: nothing leaks on error
  if (format === 'f32') {
    const lw: LinearWeights = { weight: tf.tensor2d(hostFloat32(w), [out, inF], 'float32'), bias };
    hostVectors.set(lw, { bias: host.bias });
    return lw;
  }
  if (format === 'f32-in-out') {
    return {
      format,
      kernel: tf.tensor2d(transposeHost(hostFloat32(w), out, inF), [inF, out]),
      bias,
    };
  }
  if (format === 'f16') {
    const bits =
      !(w instanceof Float32Array) && 'f16' in w
        ? w.f16
        : Uint16Array.from(hostFloat32(w), f32ToF16Bits);
    const packed = tf.tensor2d(
      packHalfPairs(bits, out, inF),
      [out, wordsPerRow('f16', inF)],
      'int32',
    );
    const lw: LinearWeights = { format: 'f16', packed, inFeatures: inF, bias };
    hostVectors.set(lw, { bias: host.bias });
    return lw;
  }
  const q =
    !(w instanceof Float32Array) && 'int8' in w ? w : quantizeInt8(hostFloat32(w), out, inF);
  const packed = tf.tensor2d(
    packInt8Quads(q.int8, out, inF),
    [out, wordsPerRow('int8', inF)],
    'int32',
  );
  const lw: LinearWeights = {
    format: 'int8',
    packed,
    scales: tf.tensor1d(q.scales, 'float32'),
    inFeatures: inF,
    bias,
  };
  hostVectors.set(lw, { bias: host.bias, scales: q.scales });
  return lw;
}

/** The host arrays behind the bias (and int8 scales) tensors of [out, in]-layout weights. */
const hostVectors = new WeakMap<LinearWeights, { bias: Float32Array; scales?: Float32Array }>();

/**
 * The bias and, for int8, the row scales of a Linear made by makeLinearWeights in format
 * 'f32', 'f16' or 'int8', as the host arrays its tensors were written from (references, not
 * copies): for tensors that pack them with other vectors from host data (so they survive a
 * device loss like every host-written tensor). Null for other formats.
 */
export function linearHostVectors(
  w: LinearWeights,
): { bias: Float32Array; scales?: Float32Array } | null {
  return hostVectors.get(w) ?? null;
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

const dequantized = new WeakMap<LinearWeights, tf.Tensor2D>();

/**
 * The float32 [out, in] weight of any LinearWeights: the tensor itself for 'f32', else a
 * dequantized copy made once (read back from the device) and kept until disposeLinearWeights.
 * Used by the tf-op path (WASM/CPU, and WebGPU with fused kernels off).
 */
export function dequantizedWeight(w: LinearWeights): tf.Tensor2D {
  if (w.format === 'f32-in-out' || w.format === 'wasm-gemm') {
    throw new InputError('weights', "a [out, in] layout ('f32', 'f16' or 'int8')", `'${w.format}'`);
  }
  if (w.format !== 'f16' && w.format !== 'int8') return w.weight;
  let t = dequantized.get(w);
  if (!t || t.isDisposed) {
    const [out, inF] = linearShape(w);
    const words = w.packed.dataSync() as Int32Array;
    const scales = w.format === 'int8' ? (w.scales.dataSync() as Float32Array) : undefined;
    t = tf.keep(tf.tensor2d(unpackWords(w.format, words, out, inF, scales), [out, inF]));
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
  if (w.format === 'wasm-gemm') {
    gemmEngine()?.unpack(w.packed);
    return;
  }
  dequantized.get(w)?.dispose();
  dequantized.delete(w);
  tf.dispose(linearTensors(w));
}
