/**
 * Strict base64 (standard alphabet, `=` padding, no whitespace) and little-endian typed-array
 * views of the decoded bytes. Browser-safe. Every problem is an InputError naming the field.
 */
import { InputError } from '../errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) t[ALPHABET.charCodeAt(i)] = i;
  return t;
})();

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function showChar(s: string, i: number): string {
  const c = s.charCodeAt(i);
  const shown = c >= 0x21 && c < 0x7f ? `'${s[i]}'` : `U+${c.toString(16).padStart(4, '0')}`;
  return `${shown} at offset ${i}`;
}

/** Decode standard base64 with `=` padding; `argument` names the field in errors. */
export function decodeBase64(text: string, argument: string): Uint8Array {
  const n = text.length;
  if (n % 4 !== 0) {
    throw new InputError(
      argument,
      'base64 (standard alphabet, = padding): a length that is a multiple of 4',
      `${n} characters`,
    );
  }
  const pad = n > 0 && text[n - 1] === '=' ? (text[n - 2] === '=' ? 2 : 1) : 0;
  const out = new Uint8Array((n / 4) * 3 - pad);
  const body = n - pad;
  let o = 0;
  let acc = 0;
  for (let i = 0; i < body; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? LOOKUP[c] : -1;
    if (v < 0) {
      throw new InputError(
        argument,
        'base64 (standard alphabet A-Z a-z 0-9 + /, = padding only at the end)',
        showChar(text, i),
      );
    }
    acc = (acc << 6) | v;
    if ((i & 3) === 3) {
      out[o++] = (acc >> 16) & 0xff;
      out[o++] = (acc >> 8) & 0xff;
      out[o++] = acc & 0xff;
      acc = 0;
    }
  }
  if (pad === 2) {
    out[o] = (acc >> 4) & 0xff;
  } else if (pad === 1) {
    out[o] = (acc >> 10) & 0xff;
    out[o + 1] = (acc >> 2) & 0xff;
  }
  return out;
}

/** float32 little-endian bytes → Float32Array (a view when the platform allows, else a copy). */
export function float32LE(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >> 2;
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
    return new Float32Array(bytes.buffer, bytes.byteOffset, n);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

/** int64 little-endian bytes → Int32Array; values outside int32 are an InputError. */
export function int64LEToInt32(bytes: Uint8Array, argument: string): Int32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength >> 3;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const lo = dv.getInt32(i * 8, true);
    const hi = dv.getInt32(i * 8 + 4, true);
    if (hi !== lo >> 31) {
      throw new InputError(
        argument,
        'int64 values within the int32 range',
        `${dv.getBigInt64(i * 8, true)} at index ${i}`,
      );
    }
    out[i] = lo;
  }
  return out;
}
