/** WebGPU program of the fused attention kernel (attention.wgsl). */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { ATTENTION_WGSL } from './wgsl_sources.js';

/** Tile sizes for one head size: workgroup memory stays under the 16 KiB WebGPU minimum. */
export function attentionTiling(headDim: number): {
  tq: number;
  tk: number;
  tpr: number;
  dpt: number;
} {
  const tq = 8;
  const tpr = 8;
  const tk = Math.max(4, Math.min(32, Math.floor(1024 / headDim)));
  return { tq, tk, tpr, dpt: Math.ceil(headDim / tpr) };
}

/** `fn maskAt` for the attention programs: the additive key mask, or none. */
export function maskSnippet(hasMask: boolean): string {
  return hasMask
    ? 'fn maskAt(b: i32, j: i32) -> f32 { return mask[b * uniforms.lk + j]; }'
    : 'fn maskAt(b: i32, j: i32) -> f32 { return 0.0; }';
}

/**
 * Uniform order: numHeads, lq, lk, qStride, kStride, vStride, qOffset, kOffset, vOffset,
 * outWidth, scale (set in Attention.ts).
 */
export const ATTENTION_UNIFORMS =
  'numHeads : i32, batch : i32, lq : i32, lk : i32, qStride : i32, kStride : i32, ' +
  'vStride : i32, qOffset : i32, kOffset : i32, vOffset : i32, outWidth : i32, scale : f32,';

export class AttentionProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y: number[]; z: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms = ATTENTION_UNIFORMS;
  workgroupSize: [number, number, number];
  private readonly headDim: number;
  private readonly hasMask: boolean;

  /** Output [B, Lq, hidden]. */
  constructor(batch: number, lq: number, numHeads: number, headDim: number, hasMask: boolean) {
    const { tq, tpr } = attentionTiling(headDim);
    this.headDim = headDim;
    this.hasMask = hasMask;
    this.outputShape = [batch, lq, numHeads * headDim];
    this.variableNames = hasMask ? ['q', 'k', 'v', 'mask'] : ['q', 'k', 'v'];
    this.workgroupSize = [tq * tpr, 1, 1];
    this.dispatchLayout = { x: [1], y: [2], z: [0] };
    this.dispatch = [Math.ceil(lq / tq), numHeads, batch];
    this.shaderKey = `lxmertAttention_${headDim}_${hasMask}`;
  }

  getUserCode(): string {
    const { tq, tk, tpr, dpt } = attentionTiling(this.headDim);
    return [
      `const HEAD_DIM = ${this.headDim};`,
      `const TQ = ${tq};`,
      `const TK = ${tk};`,
      `const TPR = ${tpr};`,
      `const DPT = ${dpt};`,
      `const WG = ${tq * tpr};`,
      maskSnippet(this.hasMask),
      ATTENTION_WGSL,
    ].join('\n');
  }
}
