/** LxmertAttention for webgpu: the fused context kernel, plus the probabilities on request. */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { AttentionProbsProgram } from './attention_probs_webgpu.js';
import { FusedAttentionProgram } from './attention_webgpu.js';
import { checkAttention } from './guards.js';
import { LXMERT_ATTENTION, type AttentionAttrs } from './names.js';

export const fusedAttentionWebGPU: KernelFunc = ({ inputs, backend, attrs }) => {
  const { q, k, v, mask } = inputs as Record<string, TensorInfo | undefined>;
  if (!q || !k || !v) throw new Error(`${LXMERT_ATTENTION}: q, k and v are required`);
  const a = attrs as unknown as AttentionAttrs;
  const { batch, lq, lk, headDim } = checkAttention(q, k, v, mask, a);
  const gpu = backend as WebGPUBackend;
  const tensors = mask ? [q, k, v, mask] : [q, k, v];
  const uniforms = [
    { type: 'int32', data: [a.numHeads] },
    { type: 'int32', data: [batch] },
    { type: 'int32', data: [lq] },
    { type: 'int32', data: [lk] },
    { type: 'int32', data: [q.shape[2]] },
    { type: 'int32', data: [k.shape[2]] },
    { type: 'int32', data: [v.shape[2]] },
    { type: 'int32', data: [a.qOffset] },
    { type: 'int32', data: [a.kOffset] },
    { type: 'int32', data: [a.vOffset] },
    { type: 'int32', data: [a.hidden] },
    { type: 'float32', data: [1 / Math.sqrt(headDim)] },
  ];
  const program = new FusedAttentionProgram(batch, lq, a.numHeads, headDim, !!mask);
  const context = gpu.runWebGPUProgram(program, tensors, 'float32', uniforms);
  if (!a.returnProbs) return context;
  const probsProgram = new AttentionProbsProgram(batch, lq, lk, a.numHeads, headDim, !!mask);
  const probsInputs = mask ? [q, k, mask] : [q, k];
  const probs = gpu.runWebGPUProgram(probsProgram, probsInputs, 'float32', uniforms);
  return [context, probs];
};

export const fusedAttentionWebGPUConfig: KernelConfig = {
  kernelName: LXMERT_ATTENTION,
  backendName: 'webgpu',
  kernelFunc: fusedAttentionWebGPU,
};
