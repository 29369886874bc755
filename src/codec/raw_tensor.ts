/**
 * Host-side tensors: bytes + dtype + shape, as read from a checkpoint or a converted model,
 * before they become tf tensors. Dtype names are safetensors' (`F32`, `I64` …); PyTorch readers
 * map to them. Browser-safe.
 */
import { WeightsError, formatShape } from '../errors.js';
import { decodeFloat16, float16Bits } from './float16.js';
import { dequantizeInt8, type Int8Rows } from './int8.js';

export type StDtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U8'
  | 'BOOL'
  | 'U16'
  | 'U32'
  | 'U64';

/** Bytes per element of each dtype. */
export const DTYPE_SIZE: Readonly<Record<StDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  U16: 2,
  U32: 4,
  U64: 8,
};

export function isStDtype(s: unknown): s is StDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, s);
}

/** One tensor's little-endian bytes with its dtype and shape. */
export interface RawTensor {
  dtype: StDtype;
  shape: number[];
  /** Exactly `numel(shape) * DTYPE_SIZE[dtype]` bytes, little-endian. */
  bytes: Uint8Array;
  /**
   * Only with dtype 'I8': the tensor is int8 quantized per row (codec/int8.ts), its value at
   * [r, …] is `bytes[…] × scales[r]`, one float32 scale per index of axis 0.
   */
  scales?: Float32Array;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The int8 values and scales of a per-row quantized tensor (views, no copy). */
export function int8Rows(t: RawTensor & { scales: Float32Array }): Int8Rows {
  return {
    int8: new Int8Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength),
    scales: t.scales,
  };
}

/** Convert any float or int tensor to float32 values (copying; int8 rows dequantized). */
export function toFloat32(t: RawTensor, name = 'tensor'): Float32Array {
  const n = numel(t.shape);
  if (t.scales) return dequantizeInt8(int8Rows({ ...t, scales: t.scales }), n / t.scales.length);
  if (t.dtype === 'F16') return decodeFloat16(float16Bits(t.bytes));
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      if (t.bytes.byteOffset % 4 === 0) {
        out.set(new Float32Array(t.bytes.buffer, t.bytes.byteOffset, n));
      } else {
        for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
      }
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(i * 2, true) << 16;
      return out;
    }
    default: {
      const ints = toInt32(t, name);
      for (let i = 0; i < n; i++) out[i] = ints[i];
      return out;
    }
  }
}

/** Convert an integer (or bool) tensor to int32, failing on values out of int32 range. */
export function toInt32(t: RawTensor, name = 'tensor'): Int32Array {
  if (t.scales) {
    throw new WeightsError(
      `expected an integer tensor, got int8 with per-row scales ${formatShape(t.shape)}`,
      name,
    );
  }
  const n = numel(t.shape);
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const out = new Int32Array(n);
  switch (t.dtype) {
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, true);
      return out;
    case 'I64':
    case 'U64':
      for (let i = 0; i < n; i++) {
        const v = t.dtype === 'I64' ? dv.getBigInt64(i * 8, true) : dv.getBigUint64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) {
          throw new WeightsError(`value ${v} at index ${i} does not fit int32`, name);
        }
        out[i] = Number(v);
      }
      return out;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, true);
      return out;
    case 'U16':
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(i * 2, true);
      return out;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      return out;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < n; i++) out[i] = dv.getUint8(i);
      return out;
    case 'U32':
      for (let i = 0; i < n; i++) {
        const v = dv.getUint32(i * 4, true);
        if (v > 2147483647)
          throw new WeightsError(`value ${v} at index ${i} does not fit int32`, name);
        out[i] = v;
      }
      return out;
    default:
      throw new WeightsError(
        `expected an integer dtype, got ${t.dtype} ${formatShape(t.shape)}`,
        name,
      );
  }
}

/** Wrap float32 values as a RawTensor (no copy when aligned). */
export function fromFloat32(values: Float32Array, shape: number[]): RawTensor {
  return {
    dtype: 'F32',
    shape,
    bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  };
}
