/**
 * Per-row int8 quantization, its byte layout (model.json `int8`: float32 scales, then the int8
 * values), the converted-weight encodings and the GPU word packing, on hand-computed values.
 */
import { describe, expect, it } from 'vitest';
import { decodeWeight, encodeWeight, encodedByteLength } from '../../src/codec/encoding.js';
import { packHalfPairs, packInt8Quads, unpackWords } from '../../src/codec/gpu_words.js';
import { concatRows, hostFloat32, hostValues } from '../../src/codec/host_values.js';
import {
  dequantizeInt8,
  int8ByteLength,
  int8Bytes,
  int8FromBytes,
  quantizeInt8,
} from '../../src/codec/int8.js';
import { toFloat32, toInt32 } from '../../src/codec/raw_tensor.js';
import { WeightsError } from '../../src/errors.js';

// Row 0: max |w| = 127 → scale 1; row 1: max |w| = 0.5 → scale 0.5/127; row 2: all zero.
const W = Float32Array.of(127, -63.5, 1, 0.5, -0.25, 0.001, 0, 0, 0);

describe('quantizeInt8', () => {
  it('scales by max|row| / 127 and rounds to the nearest step', () => {
    const q = quantizeInt8(W, 3, 3);
    expect(Array.from(q.scales)).toEqual([1, Math.fround(0.5 / 127), 0]);
    // -63.5 rounds half up (Math.round) to -63; 0.001 / (0.5/127) = 0.254 → 0
    expect(Array.from(q.int8)).toEqual([127, -63, 1, 127, -64, 0, 0, 0, 0]);
    const back = dequantizeInt8(q, 3);
    expect(back[0]).toBe(127);
    expect(back[3]).toBeCloseTo(0.5, 6);
    expect(back[4]).toBeCloseTo(-64 * (0.5 / 127), 6);
  });

  it('lays scales then values out in one buffer, read back without copying', () => {
    const q = quantizeInt8(W, 3, 3);
    const bytes = int8Bytes(q);
    expect(bytes.byteLength).toBe(int8ByteLength(3, 3));
    expect(bytes.byteLength).toBe(3 * 4 + 9);
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    expect(dv.getFloat32(0, true)).toBe(1);
    expect(dv.getInt8(12)).toBe(127);
    expect(dv.getInt8(13)).toBe(-63);
    const view = int8FromBytes(bytes, 3, 3);
    expect(view.int8.buffer).toBe(bytes.buffer);
    expect(Array.from(view.int8)).toEqual(Array.from(q.int8));
    expect(Array.from(view.scales)).toEqual(Array.from(q.scales));
  });

  it('reads a misaligned layout by copying the scales', () => {
    const bytes = int8Bytes(quantizeInt8(W, 3, 3));
    const shifted = new Uint8Array(bytes.byteLength + 1);
    shifted.set(bytes, 1);
    const q = int8FromBytes(shifted.subarray(1), 3, 3);
    expect(Array.from(q.scales)).toEqual([1, Math.fround(0.5 / 127), 0]);
  });
});

describe('decodeWeight / encodeWeight', () => {
  it('keeps float16 and int8 packed and widens on demand', () => {
    const shape = [3, 3];
    const f16 = decodeWeight('float16', encodeWeight('float16', W, shape), shape);
    expect(f16.dtype).toBe('F16');
    expect(f16.bytes.byteLength).toBe(encodedByteLength('float16', shape));
    expect(toFloat32(f16)[0]).toBe(127);
    const q8 = decodeWeight('int8', encodeWeight('int8', W, shape), shape);
    expect(q8.dtype).toBe('I8');
    expect(q8.scales?.length).toBe(3);
    expect(Array.from(toFloat32(q8))).toEqual(Array.from(dequantizeInt8(quantizeInt8(W, 3, 3), 3)));
    expect(() => toInt32(q8)).toThrow(WeightsError);
    const hv = hostValues(q8);
    expect('int8' in hv && Array.from(hv.int8)).toEqual([127, -63, 1, 127, -64, 0, 0, 0, 0]);
  });

  it('rejects a byte count that does not match the shape', () => {
    expect(() => decodeWeight('int8', new Uint8Array(20), [3, 3], 'w')).toThrow(
      /20 bytes, int8 \[3, 3\] takes 21/,
    );
  });
});

describe('concatRows', () => {
  it('stacks packed parts without widening, mixed parts as float32', () => {
    const a = quantizeInt8(W.subarray(0, 3), 1, 3);
    const b = quantizeInt8(W.subarray(3, 6), 1, 3);
    const both = concatRows([a, b]);
    expect('int8' in both && Array.from(both.int8)).toEqual([127, -63, 1, 127, -64, 0]);
    expect('int8' in both && both.scales.length).toBe(2);
    const mixed = concatRows([a, Float32Array.of(1, 2, 3)]);
    expect(mixed).toBeInstanceOf(Float32Array);
    expect(Array.from(hostFloat32(mixed)).slice(3)).toEqual([1, 2, 3]);
    const halves = concatRows([{ f16: Uint16Array.of(0x3c00) }, { f16: Uint16Array.of(0xc000) }]);
    expect('f16' in halves && Array.from(halves.f16)).toEqual([0x3c00, 0xc000]);
  });
});

describe('GPU words', () => {
  it('packs two halves a word (low half first) and pads odd rows', () => {
    const words = packHalfPairs(Uint16Array.of(0x3c00, 0xc000, 0x7bff), 1, 3);
    expect(Array.from(words, (w) => w >>> 0)).toEqual([0xc0003c00, 0x00007bff]);
    expect(Array.from(unpackWords('f16', words, 1, 3))).toEqual([1, -2, 65504]);
  });
  it('packs four int8 a word (byte b = element 4j + b) and applies the row scale', () => {
    const words = packInt8Quads(Int8Array.of(1, -1, 127, -127, 5), 1, 5);
    expect(Array.from(words, (w) => w >>> 0)).toEqual([0x817fff01, 0x00000005]);
    expect(Array.from(unpackWords('int8', words, 1, 5, Float32Array.of(0.5)))).toEqual([
      0.5, -0.5, 63.5, -63.5, 2.5,
    ]);
  });
});
