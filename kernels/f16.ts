/**
 * IEEE 754 half-precision conversions (round to nearest even), host side: the converter's
 * (src/weights/quantize.ts, finite values beyond ±65504 saturate) and the readers' decoder, so
 * weights packed for the GPU round exactly as converted float16 files do.
 */
export { f32ToF16Bits as toHalfBits } from '../src/weights/quantize.js';
export { f16ToF32 as fromHalfBits } from '../src/weights/raw_tensor.js';
