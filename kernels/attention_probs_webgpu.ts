/** WebGPU program of the attention probabilities (attention_probs.wgsl), run only on request. */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import {
  ATTENTION_UNIFORMS,
  attentionAccessors,
  attentionVariables,
  maskKey,
  type AttentionMasks,
} from './attention_webgpu.js';
import { ATTENTION_PROBS_WGSL } from './wgsl_sources.js';

export class AttentionProbsProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms = ATTENTION_UNIFORMS;
  workgroupSize: [number, number, number] = [64, 1, 1];
  private readonly headDim: number;
  private readonly masks: AttentionMasks;

  /**
   * Output [B, heads, Lq, Lk] of group 0 (the only one, or the first of a grouped call), one
   * thread per query row. `masks` as the context program's (group 1's mask is bound, unread).
   */
  constructor(
    batch: number,
    lq: number,
    lk: number,
    numHeads: number,
    headDim: number,
    masks: AttentionMasks,
  ) {
    this.headDim = headDim;
    this.masks = masks;
    this.outputShape = [batch, numHeads, lq, lk];
    this.variableNames = attentionVariables(masks, false);
    this.dispatchLayout = { x: [0, 1, 2, 3] };
    this.dispatch = [Math.ceil((batch * numHeads * lq) / 64), 1, 1];
    this.shaderKey = `lxmertAttentionProbs_${headDim}_${maskKey(masks)}`;
  }

  getUserCode(): string {
    return [
      `const HEAD_DIM = ${this.headDim};`,
      attentionAccessors(this.masks),
      ATTENTION_PROBS_WGSL,
    ].join('\n');
  }
}
