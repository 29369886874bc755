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

/**
 * A decoder's functions over the second weight set of a grouped program: `weightQuad1` and
 * `weightScale1` reading the bindings `w1` and `scales1`.
 */
export function secondWeightDecoder(wgsl: string): string {
  return wgsl
    .replace(/\bw\[/g, 'w1[')
    .replace(/\bscales\[/g, 'scales1[')
    .replace(/fn weightQuad\(/g, 'fn weightQuad1(')
    .replace(/fn weightScale\(/g, 'fn weightScale1(');
}

/**
 * The group accessors of the dense programs (dense.wgsl, dense_skinny.wgsl,
 * dense_add_layer_norm.wgsl): with one group, rows [0, m) and the decoder's functions; with two,
 * workgroup z picks rows [0, split) and the first weight set or [split, m) and the second
 * (`biasG`, the dense programs' bias; the uniforms need `split`). `rowsMax()` is uniform.
 */
export function groupAccessors(groups: 1 | 2, withBias: boolean): string {
  if (groups === 1) {
    return [
      'fn groupIndex() -> i32 { return 0; }',
      'fn rowBegin(g: i32) -> i32 { return 0; }',
      'fn rowEnd(g: i32) -> i32 { return uniforms.m; }',
      'fn rowsMax() -> i32 { return uniforms.m; }',
      'fn weightQuadG(g: i32, row: i32, col: i32, cols: i32) -> vec4<f32> {',
      '  return weightQuad(row, col, cols);',
      '}',
      'fn weightScaleG(g: i32, row: i32) -> f32 { return weightScale(row); }',
      withBias ? 'fn biasG(g: i32, n: i32) -> f32 { return bias[n]; }' : '',
    ].join('\n');
  }
  return [
    'fn groupIndex() -> i32 { return i32(workgroupId.z); }',
    'fn rowBegin(g: i32) -> i32 { return select(0, uniforms.split, g == 1); }',
    'fn rowEnd(g: i32) -> i32 { return select(uniforms.split, uniforms.m, g == 1); }',
    'fn rowsMax() -> i32 { return max(uniforms.split, uniforms.m - uniforms.split); }',
    'fn weightQuadG(g: i32, row: i32, col: i32, cols: i32) -> vec4<f32> {',
    '  if (g == 1) { return weightQuad1(row, col, cols); }',
    '  return weightQuad(row, col, cols);',
    '}',
    'fn weightScaleG(g: i32, row: i32) -> f32 {',
    '  if (g == 1) { return weightScale1(row); }',
    '  return weightScale(row);',
    '}',
    withBias
      ? 'fn biasG(g: i32, n: i32) -> f32 { if (g == 1) { return bias1[n]; } return bias[n]; }'
      : '',
  ].join('\n');
}
