/** WebGPU program of residual add + LayerNorm (add_layer_norm.wgsl). */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { ADD_LAYER_NORM_WGSL } from './wgsl_sources.js';

const MAX_DISPATCH = 65535;

export class AddLayerNormProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms = 'rows : i32, width : i32, eps : f32,';
  workgroupSize: [number, number, number];
  private readonly hasResidual: boolean;
  private readonly wg: number;

  /** One workgroup per row of `shape` (normalised over the last axis). */
  constructor(shape: number[], hasResidual: boolean) {
    const width = shape[shape.length - 1];
    const rows = shape.reduce((a, b) => a * b, 1) / width;
    this.wg = width >= 1024 ? 128 : 64;
    this.hasResidual = hasResidual;
    this.outputShape = shape;
    this.variableNames = hasResidual ? ['x', 'residual', 'gamma', 'beta'] : ['x', 'gamma', 'beta'];
    this.workgroupSize = [this.wg, 1, 1];
    this.dispatchLayout = { x: [0], y: [1] };
    const dx = Math.min(rows, MAX_DISPATCH);
    this.dispatch = [dx, Math.ceil(rows / dx), 1];
    this.shaderKey = `lxmertAddLayerNorm_${this.wg}_${hasResidual}`;
  }

  getUserCode(): string {
    const residual = this.hasResidual
      ? 'fn residualAt(i: i32) -> f32 { return residual[i]; }'
      : 'fn residualAt(i: i32) -> f32 { return 0.0; }';
    return [`const WG = ${this.wg};`, residual, ADD_LAYER_NORM_WGSL].join('\n');
  }
}
