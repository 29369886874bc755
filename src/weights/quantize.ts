/**
 * Weight encodings of the converter: float16 (IEEE binary16) and int8 per-row symmetric.
 *
 * int8 layout of one tensor of shape [rows, cols] (rows = output channels of a Linear weight,
 * or tokens of an embedding): `rows` float32 little-endian scales, then `rows × cols` int8
 * values; `w[r][c] ≈ q[r][c] × scale[r]`, `scale[r] = max|w[r]| / 127`, `q ∈ [-127, 127]`.
 * Browser-safe.
 */
import { f16ToF32 } from './raw_tensor.js';

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Largest finite float16. */
export const F16_MAX = 65504;

/**
 * Float to binary16 bits, round to nearest even. Finite values beyond ±65504 saturate to
 * ±65504 (weights have no business being that large, and ±Inf would poison the model); NaN
 * stays NaN.
 */
export function f32ToF16Bits(x: number): number {
  F32[0] = x;
  const u = U32[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return mant ? 0x7e00 : sign | 0x7c00;
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7bff;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  if ((h & 0x7fff) >= 0x7c00) return sign | 0x7bff;
  return sign | h;
}

/** float32 values → binary16 little-endian bytes. */
export function encodeFloat16(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setUint16(i * 2, f32ToF16Bits(values[i]), true);
  return out;
}

let f16Table: Float32Array | undefined;

/** binary16 little-endian bytes → float32 values (table lookup). */
export function decodeFloat16(bytes: Uint8Array): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16ToF32(h);
  }
  const n = bytes.byteLength >> 1;
  const out = new Float32Array(n);
  const t = f16Table;
  for (let i = 0, j = 0; i < n; i++, j += 2) out[i] = t[bytes[j] | (bytes[j + 1] << 8)];
  return out;
}

/** Bytes of the int8 encoding of a [rows, cols] tensor. */
export function int8ByteLength(rows: number, cols: number): number {
  return rows * 4 + rows * cols;
}

/** Quantize a row-major [rows, cols] float32 tensor (see the file comment for the layout). */
export function quantizeInt8(values: Float32Array, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(int8ByteLength(rows, cols));
  const dv = new DataView(out.buffer);
  const q = new Int8Array(out.buffer, rows * 4);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * cols, (r + 1) * cols);
    let max = 0;
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(row[c]);
      if (a > max) max = a;
    }
    const scale = Math.fround(max / 127);
    dv.setFloat32(r * 4, scale, true);
    if (scale === 0 || !Number.isFinite(scale)) continue;
    const inv = 1 / scale;
    for (let c = 0; c < cols; c++) {
      const v = Math.round(row[c] * inv);
      q[r * cols + c] = v > 127 ? 127 : v < -127 ? -127 : v;
    }
  }
  return out;
}

/** Inverse of quantizeInt8: float32 values `q × scale[row]`. */
export function dequantizeInt8(bytes: Uint8Array, rows: number, cols: number): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = new Int8Array(bytes.buffer, bytes.byteOffset + rows * 4, rows * cols);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const s = dv.getFloat32(r * 4, true);
    for (let c = r * cols, e = c + cols; c < e; c++) out[c] = q[c] * s;
  }
  return out;
}

/** Which tensors the int8 mode quantizes: every rank-2 `*.weight` (Linear and embeddings). */
export function quantizesToInt8(name: string, shape: readonly number[]): boolean {
  return shape.length === 2 && name.endsWith('.weight') && shape[0] > 0 && shape[1] > 0;
}
