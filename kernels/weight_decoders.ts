/**
 * The WGSL weight decoders, one per storage format (weights_<format>.wgsl, plus the vec4-bound
 * forms of f32 and f16 when a row's length is a multiple of 4), shared by every program that
 * reads a Linear weight or an embedding table (dense, gather rows). Each defines
 * `fn weightQuad(row, col, cols: i32) -> vec4<f32>` and `fn weightScale(row: i32) -> f32` over a
 * binding named `w` (and `scales` for int8).
 */
import type { WeightFormat } from './names.js';
import {
  WEIGHTS_F16_VEC4_WGSL,
  WEIGHTS_F16_WGSL,
  WEIGHTS_F32_VEC4_WGSL,
  WEIGHTS_F32_WGSL,
  WEIGHTS_INT8_WGSL,
} from './wgsl_sources.js';

const DECODERS: Record<WeightFormat, { scalar: string; vec4: string; vec4Components: number }> = {
  f32: { scalar: WEIGHTS_F32_WGSL, vec4: WEIGHTS_F32_VEC4_WGSL, vec4Components: 4 },
  f16: { scalar: WEIGHTS_F16_WGSL, vec4: WEIGHTS_F16_VEC4_WGSL, vec4Components: 2 },
  int8: { scalar: WEIGHTS_INT8_WGSL, vec4: WEIGHTS_INT8_WGSL, vec4Components: 1 },
};

/**
 * The decoder for `format`, and the components of the `w` binding it expects (the program's
 * variableComponents entry): `vec4` when rows are a multiple of 4 long.
 */
export function weightDecoder(
  format: WeightFormat,
  vec4: boolean,
): { wgsl: string; components: number } {
  const d = DECODERS[format];
  return vec4 ? { wgsl: d.vec4, components: d.vec4Components } : { wgsl: d.scalar, components: 1 };
}
