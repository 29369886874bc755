/**
 * Packing of float16 and int8 weights into the 32-bit words the WebGPU kernels read (WGSL has
 * no 8- or 16-bit storage types without extensions): two halves or four int8 per word, row by
 * row, the last word of a row zero-padded. The kernels' WGSL decoders read this layout.
 * Browser-safe.
 */
import { f16ToF32 } from './float16.js';

/** 32-bit words a row of `cols` values takes in `format`. */
export function wordsPerRow(format: 'f16' | 'int8', cols: number): number {
  return format === 'f16' ? Math.ceil(cols / 2) : Math.ceil(cols / 4);
}

/** float16 bits [rows, cols] → int32 words [rows, ceil(cols/2)], element 2j in the low half. */
export function packHalfPairs(bits: Uint16Array, rows: number, cols: number): Int32Array {
  const words = wordsPerRow('f16', cols);
  const packed = new Int32Array(rows * words);
  for (let n = 0; n < rows; n++) {
    for (let j = 0; j < words; j++) {
      const lo = bits[n * cols + 2 * j];
      const hi = 2 * j + 1 < cols ? bits[n * cols + 2 * j + 1] : 0;
      packed[n * words + j] = lo | (hi << 16);
    }
  }
  return packed;
}

/** int8 [rows, cols] → int32 words [rows, ceil(cols/4)], element 4j + b in byte b. */
export function packInt8Quads(q: Int8Array, rows: number, cols: number): Int32Array {
  const words = wordsPerRow('int8', cols);
  const packed = new Int32Array(rows * words);
  for (let n = 0; n < rows; n++) {
    for (let j = 0; j < words; j++) {
      let word = 0;
      for (let b = 0; b < 4; b++) {
        const k = 4 * j + b;
        if (k < cols) word |= (q[n * cols + k] & 0xff) << (8 * b);
      }
      packed[n * words + j] = word;
    }
  }
  return packed;
}

/**
 * Packed words back to float32 [rows, cols]: halves widened, or int8 times the row's scale
 * (scale 1 without `scales`).
 */
export function unpackWords(
  format: 'f16' | 'int8',
  words: Int32Array,
  rows: number,
  cols: number,
  scales?: Float32Array,
): Float32Array {
  const f = new Float32Array(rows * cols);
  const perRow = wordsPerRow(format, cols);
  if (format === 'f16') {
    for (let n = 0; n < rows; n++) {
      for (let k = 0; k < cols; k++) {
        const word = words[n * perRow + (k >> 1)];
        f[n * cols + k] = f16ToF32(k & 1 ? (word >>> 16) & 0xffff : word & 0xffff);
      }
    }
    return f;
  }
  for (let n = 0; n < rows; n++) {
    const s = scales ? scales[n] : 1;
    for (let k = 0; k < cols; k++) {
      const word = words[n * perRow + (k >> 2)];
      f[n * cols + k] = ((word << (24 - 8 * (k & 3))) >> 24) * s;
    }
  }
  return f;
}
