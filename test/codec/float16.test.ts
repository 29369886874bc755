/**
 * float16 encoding against independent bit patterns (IEEE 754 binary16 as tabulated, not our
 * decoder): exact values, saturation, subnormals, ties to even, NaN and signed zeros.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeFloat16,
  encodeFloat16,
  f16ToF32,
  f32ToF16Bits,
  float16Bits,
} from '../../src/codec/float16.js';

const hex = (h: number) => `0x${h.toString(16).padStart(4, '0')}`;

describe('f32ToF16Bits', () => {
  const cases: [string, number, number][] = [
    ['1.0', 1, 0x3c00],
    ['-2.0', -2, 0xc000],
    ['0.5', 0.5, 0x3800],
    ['0.1 (rounded)', 0.1, 0x2e66],
    ['largest finite 65504', 65504, 0x7bff],
    ['65519 rounds down to 65504', 65519, 0x7bff],
    ['65520 saturates (would round to Inf)', 65520, 0x7bff],
    ['1e6 saturates', 1e6, 0x7bff],
    ['-1e6 saturates', -1e6, 0xfbff],
    ['+Inf', Infinity, 0x7c00],
    ['-Inf', -Infinity, 0xfc00],
    ['smallest normal 2^-14', 2 ** -14, 0x0400],
    ['largest subnormal 2^-14 - 2^-24', 2 ** -14 - 2 ** -24, 0x03ff],
    ['smallest subnormal 2^-24', 2 ** -24, 0x0001],
    ['2^-25 ties to even (0)', 2 ** -25, 0x0000],
    ['3·2^-25 ties to even (2·2^-24)', 3 * 2 ** -25, 0x0002],
    ['below half the smallest subnormal flushes to 0', 2 ** -26, 0x0000],
    ['1 + 2^-11 ties to even (1.0)', 1 + 2 ** -11, 0x3c00],
    ['1 + 3·2^-11 ties to even (1 + 2^-9)', 1 + 3 * 2 ** -11, 0x3c02],
    ['1 + 2^-11 + 2^-20 rounds up', 1 + 2 ** -11 + 2 ** -20, 0x3c01],
    ['+0', 0, 0x0000],
    ['-0', -0, 0x8000],
  ];
  for (const [what, x, bits] of cases) {
    it(`${what} → ${hex(bits)}`, () => {
      expect(hex(f32ToF16Bits(x))).toBe(hex(bits));
    });
  }

  it('NaN → a NaN pattern (exponent all ones, mantissa non-zero)', () => {
    const h = f32ToF16Bits(NaN);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x03ff).not.toBe(0);
  });
});

describe('f16ToF32', () => {
  const cases: [number, number][] = [
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0400, 2 ** -14],
    [0x03ff, 2 ** -14 - 2 ** -24],
    [0x0001, 2 ** -24],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
    [0x3555, 0.333251953125],
  ];
  for (const [bits, x] of cases) {
    it(`${hex(bits)} → ${x}`, () => {
      expect(f16ToF32(bits)).toBe(x);
    });
  }
  it('signed zeros and NaN', () => {
    expect(Object.is(f16ToF32(0x0000), 0)).toBe(true);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x7e00)).toBeNaN();
  });
});

describe('encodeFloat16 / float16Bits / decodeFloat16', () => {
  it('writes little-endian bytes and reads them back', () => {
    const bytes = encodeFloat16(Float32Array.of(1, -2, 65504));
    expect(Array.from(bytes)).toEqual([0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b]);
    expect(Array.from(float16Bits(bytes))).toEqual([0x3c00, 0xc000, 0x7bff]);
    expect(Array.from(decodeFloat16(float16Bits(bytes)))).toEqual([1, -2, 65504]);
  });

  it('reads aligned bytes in place and unaligned ones through a copy', () => {
    const buf = new Uint8Array(9);
    buf.set([0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b], 2); // aligned at 2
    const aligned = float16Bits(buf.subarray(2, 8));
    expect(Array.from(aligned)).toEqual([0x3c00, 0xc000, 0x7bff]);
    expect(aligned.buffer).toBe(buf.buffer); // a view: no copy
    buf.copyWithin(3, 2, 8); // now at odd offset 3
    const unaligned = float16Bits(buf.subarray(3, 9));
    expect(Array.from(unaligned)).toEqual([0x3c00, 0xc000, 0x7bff]);
    expect(unaligned.buffer).not.toBe(buf.buffer);
    // an odd byte count: the last byte is ignored, as before
    expect(Array.from(float16Bits(buf.subarray(3, 8)))).toEqual([0x3c00, 0xc000]);
  });
});
