/** WebGPU program of dense + bias + residual add + LayerNorm (dense_add_layer_norm.wgsl). */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { WeightFormat } from './names.js';
import { groupAccessors, secondWeightDecoder, weightDecoder } from './weight_decoders.js';
import {
  DENSE_ADD_LAYER_NORM_WGSL,
  DENSE_INPUT_VEC4_WGSL,
  DENSE_INPUT_WGSL,
} from './wgsl_sources.js';

/** Rows per workgroup, threads per workgroup, K per staged tile. */
const RB = 4;
const WG = 64;
const TKD = 32;
/** Widest N the program takes (columns per thread · threads); wider runs dense, then add+LN. */
export const DENSE_ADD_LAYER_NORM_MAX_N = 32 * WG;

export class DenseAddLayerNormProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  variableComponents?: number[];
  uniforms = 'm : i32, n : i32, k : i32, split : i32, eps : f32,';
  workgroupSize: [number, number, number] = [WG, 1, 1];
  private readonly format: WeightFormat;
  private readonly groups: 1 | 2;
  private readonly vec4: boolean;
  private readonly cpt: number;

  /**
   * @param outputShape [..., N]; @param inFeatures K
   * @param split grouped: rows of group 0 (the rest use w1 and epilogue1)
   */
  constructor(outputShape: number[], inFeatures: number, format: WeightFormat, split?: number) {
    const n = outputShape[outputShape.length - 1];
    const m = outputShape.reduce((a, b) => a * b, 1) / n;
    this.outputShape = outputShape;
    this.format = format;
    this.groups = split === undefined ? 1 : 2;
    this.cpt = Math.ceil(n / WG);
    this.vec4 = inFeatures % 4 === 0;
    this.variableNames = ['x', 'residual', 'w', 'epilogue'];
    if (this.groups === 2) this.variableNames.push('w1', 'epilogue1');
    if (this.vec4) {
      const c = weightDecoder(format, true).components;
      this.variableComponents = [4, 1, c, 1, ...(this.groups === 2 ? [c, 1] : [])];
    }
    const rows = split === undefined ? m : Math.max(split, m - split);
    this.dispatchLayout = { x: [0], y: [1] };
    this.dispatch = [1, Math.ceil(rows / RB), this.groups];
    const grouped = this.groups === 2 ? '_grouped' : '';
    this.shaderKey = `lxmertDenseAddLayerNorm_${format}_${this.cpt}_${this.vec4}${grouped}`;
  }

  getUserCode(): string {
    // int8 row scales live in the epilogue's row 3 here, not in a `scales` binding.
    const decoder = weightDecoder(this.format, this.vec4).wgsl;
    const first = decoder.replace(/\bscales\[row\]/g, 'epilogue[3 * uniforms.n + row]');
    const second = secondWeightDecoder(decoder).replace(
      /\bscales1\[row\]/g,
      'epilogue1[3 * uniforms.n + row]',
    );
    const epilogue =
      this.groups === 2
        ? 'fn epilogueAt(g: i32, row: i32, n: i32) -> f32 {\n' +
          '  if (g == 1) { return epilogue1[row * uniforms.n + n]; }\n' +
          '  return epilogue[row * uniforms.n + n];\n}'
        : 'fn epilogueAt(g: i32, row: i32, n: i32) -> f32 { return epilogue[row * uniforms.n + n]; }';
    return [
      `const RB = ${RB};`,
      `const CPT = ${this.cpt};`,
      `const TKD = ${TKD};`,
      `const WG = ${WG};`,
      first,
      this.groups === 2 ? second : '',
      groupAccessors(this.groups, false),
      epilogue,
      'fn scaleAt(g: i32, n: i32) -> f32 { return weightScaleG(g, n); }',
      this.vec4 ? DENSE_INPUT_VEC4_WGSL : DENSE_INPUT_WGSL,
      DENSE_ADD_LAYER_NORM_WGSL,
    ].join('\n');
  }
}
