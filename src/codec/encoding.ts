/**
 * The byte layouts of a converted model's weights (model.json `quantization`, see
 * weights/README.md): float32 and float16 little-endian, int8 per-row (codec/int8.ts). The
 * converter encodes with encodeWeight, the loaders decode with decodeWeight, which keeps float16
 * and int8 packed. Browser-safe.
 */
import { WeightsError, formatShape } from '../errors.js';
import { encodeFloat16 } from './float16.js';
import { int8ByteLength, int8Bytes, int8FromBytes, quantizeInt8 } from './int8.js';
import { numel, type RawTensor } from './raw_tensor.js';

/** How a weight is stored in the shards. */
export type WeightEncoding = 'float32' | 'float16' | 'int8';

/** Rows and columns of the int8 encoding: axis 0, and the product of the other axes. */
function rowsCols(shape: readonly number[]): [number, number] {
  const rows = shape[0] ?? 1;
  return [rows, rows === 0 ? 0 : numel(shape) / rows];
}

/** Bytes a tensor of `shape` takes in `encoding`. */
export function encodedByteLength(encoding: WeightEncoding, shape: readonly number[]): number {
  if (encoding === 'float32') return numel(shape) * 4;
  if (encoding === 'float16') return numel(shape) * 2;
  return int8ByteLength(...rowsCols(shape));
}

/** float32 values of a tensor of `shape` → its bytes in `encoding`. */
export function encodeWeight(
  encoding: WeightEncoding,
  values: Float32Array,
  shape: readonly number[],
): Uint8Array {
  if (encoding === 'float32')
    return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (encoding === 'float16') return encodeFloat16(values);
  return int8Bytes(quantizeInt8(values, ...rowsCols(shape)));
}

/**
 * The bytes of one weight as a host tensor, kept as stored: 'F32', 'F16', or 'I8' with per-row
 * scales (views on `bytes`, no copy when aligned).
 */
export function decodeWeight(
  encoding: WeightEncoding,
  bytes: Uint8Array,
  shape: number[],
  name = 'weight',
): RawTensor {
  if (bytes.byteLength !== encodedByteLength(encoding, shape)) {
    throw new WeightsError(
      `${bytes.byteLength} bytes, ${encoding} ${formatShape(shape)} takes ${encodedByteLength(encoding, shape)}`,
      name,
    );
  }
  if (encoding === 'float32') return { dtype: 'F32', shape, bytes: aligned(bytes, 4) };
  if (encoding === 'float16') return { dtype: 'F16', shape, bytes };
  const [rows, cols] = rowsCols(shape);
  const q = int8FromBytes(bytes, rows, cols);
  return {
    dtype: 'I8',
    shape,
    bytes: new Uint8Array(q.int8.buffer, q.int8.byteOffset, q.int8.length),
    scales: q.scales,
  };
}

/** `bytes`, copied when its offset is not a multiple of `n` (typed-array views need it). */
function aligned(bytes: Uint8Array, n: number): Uint8Array {
  return bytes.byteOffset % n === 0 ? bytes : bytes.slice();
}
