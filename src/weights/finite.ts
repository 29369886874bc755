/**
 * Non-finite weights: a NaN or ±Inf in a checkpoint (or a float64 value beyond float32's
 * range) converts fine and then makes every answer NaN. The converter and the checkpoint
 * loader refuse them here, naming the tensor and the first bad element. Browser-safe.
 */
import { WeightsError } from '../errors.js';
import type { RawTensor } from '../codec/raw_tensor.js';

/** Largest finite float16. */
const F16_MAX = 65504;

/** Largest finite float32. */
const F32_MAX = 3.4028234663852886e38;

/**
 * Throw a WeightsError when `f32` (the float32 values of `raw`, a tensor named `name`) holds a
 * NaN or ±Inf; a float64 source value that only overflowed float32 is reported as such.
 */
export function checkFinite(
  f32: Float32Array,
  raw: Pick<RawTensor, 'dtype' | 'bytes'>,
  name: string,
  source: string,
): void {
  for (let i = 0; i < f32.length; i++) {
    const v = f32[i];
    if (v - v === 0) continue; // finite
    if (raw.dtype === 'F64') {
      const dv = new DataView(raw.bytes.buffer, raw.bytes.byteOffset, raw.bytes.byteLength);
      const orig = dv.getFloat64(i * 8, true);
      if (Number.isFinite(orig)) {
        throw new WeightsError(
          `tensor '${name}': float64 value ${orig} at element ${i} overflows float32 ` +
            `(|x| > ${F32_MAX}); refusing to convert it to ${v}`,
          source,
        );
      }
    }
    throw new WeightsError(
      `tensor '${name}': ${v} at element ${i} (of ${f32.length}); weights must be finite`,
      source,
    );
  }
}

/** The float32 values of F32 bytes without a copy when aligned. */
export function float32View(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) {
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
  }
  return new Float32Array(bytes.slice().buffer);
}

/** How many values float16 storage will saturate to ±65504. */
export function countFloat16Saturated(f32: Float32Array): number {
  let n = 0;
  // Values from 65520 on would round to Inf; f32ToF16Bits clamps them to ±65504.
  for (let i = 0; i < f32.length; i++) if (Math.abs(f32[i]) >= F16_MAX + 16) n++;
  return n;
}
