/** WebGPU program of the dense + bias + activation kernel (dense.wgsl). */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type { WeightFormat } from './names.js';
import type { Activation } from './types.js';
import {
  ACTIVATIONS_WGSL,
  DENSE_WGSL,
  DENSE_WEIGHTS_F16_WGSL,
  DENSE_WEIGHTS_F32_WGSL,
  DENSE_WEIGHTS_INT8_WGSL,
} from './wgsl_sources.js';

const TM = 32;
const TN = 32;
const TKD = 32;

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

const WEIGHT_LOADERS: Record<WeightFormat, string> = {
  f32: DENSE_WEIGHTS_F32_WGSL,
  f16: DENSE_WEIGHTS_F16_WGSL,
  int8: DENSE_WEIGHTS_INT8_WGSL,
};

export class DenseProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms = 'm : i32, n : i32, k : i32,';
  workgroupSize: [number, number, number] = [64, 1, 1];
  private readonly format: WeightFormat;
  private readonly activation: Activation;
  private readonly f16Math: boolean;

  /**
   * @param outputShape [..., N] (x's leading dims, then the output features)
   * @param f16Math stage tiles and multiply in f16 (device has shader-f16); accumulation stays f32
   */
  constructor(
    outputShape: number[],
    format: WeightFormat,
    activation: Activation,
    f16Math: boolean,
  ) {
    const n = outputShape[outputShape.length - 1];
    const m = outputShape.reduce((a, b) => a * b, 1) / n;
    this.outputShape = outputShape;
    this.format = format;
    this.activation = activation;
    this.f16Math = f16Math;
    this.variableNames = format === 'int8' ? ['x', 'w', 'bias', 'scales'] : ['x', 'w', 'bias'];
    this.dispatchLayout = { x: [0], y: [1] };
    this.dispatch = [Math.ceil(n / TN), Math.ceil(m / TM), 1];
    this.shaderKey = `lxmertDense_${format}_${activation}_${f16Math}`;
  }

  getUserCode(): string {
    return [
      this.f16Math ? ENABLE_F16_MARKER : '',
      `const TM = ${TM};`,
      `const TN = ${TN};`,
      `const TKD = ${TKD};`,
      'const WG = 64;',
      `alias TileT = vec4<${this.f16Math ? 'f16' : 'f32'}>;`,
      `const ACT = ${ACTIVATION_IDS[this.activation]};`,
      ACTIVATIONS_WGSL,
      WEIGHT_LOADERS[this.format],
      DENSE_WGSL,
    ].join('\n');
  }
}
