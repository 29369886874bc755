/** WebGPU program of the dense + bias + activation kernel (dense.wgsl). */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { WeightFormat } from './names.js';
import type { Activation } from './types.js';
import { groupAccessors, secondWeightDecoder, weightDecoder } from './weight_decoders.js';
import {
  ACTIVATIONS_WGSL,
  DENSE_INPUT_VEC4_WGSL,
  DENSE_INPUT_WGSL,
  DENSE_SKINNY_WGSL,
  DENSE_WGSL,
} from './wgsl_sources.js';

const TM = 32;
const TN = 32;
const TKD = 32;
/** Skinny variant: columns per workgroup, K slices, rows per pass. */
const SKINNY_TN = 16;
const SKINNY_KS = 16;
const SKINNY_MB = 8;
/** Up to this many rows the skinny variant is used. */
export const SKINNY_MAX_ROWS = 64;

/** 'tiled': 32 × 32 output tiles; 'skinny': few rows, K split across the workgroup. */
export type DenseVariant = 'tiled' | 'skinny';

/** Marker line that the device set up in src/backend.ts turns into `enable f16;`. */
export const ENABLE_F16_MARKER = '// lxmert:enable-f16';

const ACTIVATION_IDS: Record<Activation, number> = {
  linear: 0,
  gelu: 1,
  gelu_new: 2,
  gelu_fast: 3,
  quick_gelu: 4,
  relu: 5,
  silu: 6,
  tanh: 7,
  sigmoid: 8,
};

export class DenseProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms: string;
  workgroupSize: [number, number, number] = [64, 1, 1];
  private readonly format: WeightFormat;
  private readonly activation: Activation;
  private readonly f16Math: boolean;
  private readonly variant: DenseVariant;
  private readonly vec4: boolean;
  private readonly decoder: string;
  private readonly groups: 1 | 2;
  variableComponents?: number[];

  /**
   * @param outputShape [..., N] (x's leading dims, then the output features)
   * @param inFeatures K
   * @param f16Math stage tiles and multiply in f16 (device has shader-f16); accumulation stays f32
   * @param variant 'auto': skinny up to SKINNY_MAX_ROWS rows (per group), else tiled
   * @param split grouped: rows of group 0 (the rest use the second weight set w1, bias1, scales1)
   */
  constructor(
    outputShape: number[],
    inFeatures: number,
    format: WeightFormat,
    activation: Activation,
    f16Math: boolean,
    variant: DenseVariant | 'auto' = 'auto',
    split?: number,
  ) {
    const n = outputShape[outputShape.length - 1];
    const m = outputShape.reduce((a, b) => a * b, 1) / n;
    this.groups = split === undefined ? 1 : 2;
    const rows = split === undefined ? m : Math.max(split, m - split);
    this.uniforms = `m : i32, n : i32, k : i32,${this.groups === 2 ? ' split : i32,' : ''}`;
    this.variant = variant !== 'auto' ? variant : rows <= SKINNY_MAX_ROWS ? 'skinny' : 'tiled';
    this.outputShape = outputShape;
    this.format = format;
    this.activation = activation;
    this.f16Math = f16Math;
    const set = format === 'int8' ? ['w', 'bias', 'scales'] : ['w', 'bias'];
    const second = this.groups === 2 ? set.map((name) => `${name}1`) : [];
    this.variableNames = ['x', ...set, ...second];
    // Whole-quad loads need K % 4 == 0 (then every row starts on a 16-byte boundary).
    this.vec4 = inFeatures % 4 === 0;
    const decoder = weightDecoder(format, this.vec4);
    this.decoder =
      this.groups === 2 ? `${decoder.wgsl}\n${secondWeightDecoder(decoder.wgsl)}` : decoder.wgsl;
    if (this.vec4) {
      // [x, w, bias, scales, (w1, bias1, scales1)]: x in vec4s, w as its decoder binds it
      const setComponents = [decoder.components, 1, 1].slice(0, set.length);
      this.variableComponents = [4, ...setComponents, ...(this.groups === 2 ? setComponents : [])];
    }
    this.dispatchLayout = { x: [0], y: [1] };
    if (this.variant === 'skinny') {
      this.workgroupSize = [SKINNY_TN * SKINNY_KS, 1, 1];
      this.dispatch = [Math.ceil(n / SKINNY_TN), 1, this.groups];
    } else {
      this.dispatch = [Math.ceil(n / TN), Math.ceil(rows / TM), this.groups];
    }
    const key = `${this.variant}_${format}_${activation}_${f16Math}_${this.vec4}`;
    this.shaderKey = `lxmertDense_${key}${this.groups === 2 ? '_grouped' : ''}`;
  }

  getUserCode(): string {
    const constants =
      this.variant === 'skinny'
        ? [
            `const TN = ${SKINNY_TN};`,
            `const KS = ${SKINNY_KS};`,
            `const MB = ${SKINNY_MB};`,
            `const WG = ${SKINNY_TN * SKINNY_KS};`,
          ]
        : [`const TM = ${TM};`, `const TN = ${TN};`, `const TKD = ${TKD};`, 'const WG = 64;'];
    return [
      this.f16Math ? ENABLE_F16_MARKER : '',
      ...constants,
      `alias TileT = vec4<${this.f16Math ? 'f16' : 'f32'}>;`,
      `const ACT = ${ACTIVATION_IDS[this.activation]};`,
      ACTIVATIONS_WGSL,
      this.decoder,
      groupAccessors(this.groups, true),
      this.vec4 ? DENSE_INPUT_VEC4_WGSL : DENSE_INPUT_WGSL,
      this.variant === 'skinny' ? DENSE_SKINNY_WGSL : DENSE_WGSL,
    ].join('\n');
  }
}
