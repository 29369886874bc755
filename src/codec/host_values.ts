/**
 * A weight's values on the host in the form they were stored: float32, float16 bits, or int8
 * with per-row scales. Model layers ask for weights in this form, so packed float16/int8 data
 * reaches the GPU kernels as it was converted, without a float32 detour. Browser-safe.
 */
import { decodeFloat16, float16Bits } from './float16.js';
import { dequantizeInt8, type Int8Rows } from './int8.js';
import { int8Rows, toFloat32, type RawTensor } from './raw_tensor.js';

/** Row-major values: float32, float16 bit patterns, or per-row int8. */
export type HostValues = Float32Array | { f16: Uint16Array } | Int8Rows;

/** How many values a HostValues holds. */
export function hostValueCount(data: HostValues): number {
  if (data instanceof Float32Array) return data.length;
  return 'f16' in data ? data.f16.length : data.int8.length;
}

/** float32 values of any HostValues (float16 widened, int8 dequantized per row; no copy for float32). */
export function hostFloat32(data: HostValues): Float32Array {
  if (data instanceof Float32Array) return data;
  if ('f16' in data) return decodeFloat16(data.f16);
  return dequantizeInt8(data, data.int8.length / data.scales.length);
}

/**
 * The host values of a RawTensor as stored: float16 bits for 'F16', int8 rows for a quantized
 * 'I8', float32 for everything else (widened).
 */
export function hostValues(t: RawTensor, name = 'tensor'): HostValues {
  if (t.scales) return int8Rows({ ...t, scales: t.scales });
  if (t.dtype === 'F16') return { f16: float16Bits(t.bytes) };
  return toFloat32(t, name);
}

/**
 * Several [rows_i, cols] tensors stacked along rows (e.g. query, key and value as one [3H, H]
 * projection): float16 and int8 stay packed when every part has that form, otherwise the result
 * is float32.
 */
export function concatRows(parts: readonly HostValues[]): HostValues {
  if (parts.length === 1) return parts[0];
  if (parts.every((p) => !(p instanceof Float32Array) && 'f16' in p)) {
    return {
      f16: concat(
        parts.map((p) => (p as { f16: Uint16Array }).f16),
        Uint16Array,
      ),
    };
  }
  if (parts.every((p) => !(p instanceof Float32Array) && 'int8' in p)) {
    const q = parts as readonly Int8Rows[];
    return {
      int8: concat(
        q.map((p) => p.int8),
        Int8Array,
      ),
      scales: concat(
        q.map((p) => p.scales),
        Float32Array,
      ),
    };
  }
  return concat(parts.map(hostFloat32), Float32Array);
}

function concat<T extends Float32Array | Uint16Array | Int8Array>(
  arrays: readonly T[],
  Ctor: { new (n: number): T },
): T {
  const out = new Ctor(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a as never, at);
    at += a.length;
  }
  return out;
}
