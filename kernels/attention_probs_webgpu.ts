/** WebGPU program of the attention probabilities (attention_probs.wgsl), run only on request. */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { ATTENTION_UNIFORMS, maskSnippet } from './attention_webgpu.js';
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
  private readonly hasMask: boolean;

  /** Output [B, heads, Lq, Lk], one thread per query row. */
  constructor(
    batch: number,
    lq: number,
    lk: number,
    numHeads: number,
    headDim: number,
    hasMask: boolean,
  ) {
    this.headDim = headDim;
    this.hasMask = hasMask;
    this.outputShape = [batch, numHeads, lq, lk];
    this.variableNames = hasMask ? ['q', 'k', 'mask'] : ['q', 'k'];
    this.dispatchLayout = { x: [0, 1, 2, 3] };
    this.dispatch = [Math.ceil((batch * numHeads * lq) / 64), 1, 1];
    this.shaderKey = `lxmertAttentionProbs_${headDim}_${hasMask}`;
  }

  getUserCode(): string {
    return [
      `const HEAD_DIM = ${this.headDim};`,
      maskSnippet(this.hasMask),
      ATTENTION_PROBS_WGSL,
    ].join('\n');
  }
}
