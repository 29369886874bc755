/**
 * IEEE 754 binary16 (float16), host side: the converter's encoder, the readers' and loaders'
 * decoder, and the packing of float16 weights for the GPU all use these, so every path rounds
 * alike. Browser-safe.
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/**
 * A float to its binary16 bits, round to nearest even. Finite values beyond ±65504 saturate to
 * ±65504 (weights have no business being that large, and ±Inf would poison the model); ±Inf
 * stays ±Inf and NaN stays NaN.
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

/** binary16 bits to the float they stand for (exact). */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** float32 values → binary16 little-endian bytes (the converter's float16 layout). */
export function encodeFloat16(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setUint16(i * 2, f32ToF16Bits(values[i]), true);
  return out;
}

/** Whether typed arrays here are little-endian (every browser and Node platform in practice). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * binary16 little-endian bytes → the bit patterns, one Uint16 each: a view on `bytes` when it
 * is 2-byte aligned on a little-endian host (read-only by convention: it shares the bytes),
 * else a copy.
 */
export function float16Bits(bytes: Uint8Array): Uint16Array {
  const n = bytes.byteLength >> 1;
  if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) {
    return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  }
  const bits = new Uint16Array(n);
  if (LITTLE_ENDIAN) new Uint8Array(bits.buffer).set(bytes.subarray(0, 2 * n));
  else for (let i = 0, j = 0; i < n; i++, j += 2) bits[i] = bytes[j] | (bytes[j + 1] << 8);
  return bits;
}

let table: Float32Array | undefined;

/** binary16 bit patterns → float32 values (table lookup). */
export function decodeFloat16(bits: Uint16Array): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = f16ToF32(h);
  }
  const t = table;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}
