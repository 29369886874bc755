/** LxmertAttention for webgpu: the fused context kernel, plus the probabilities on request. */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { AttentionProbsProgram } from './attention_probs_webgpu.js';
import { AttentionProgram } from './attention_webgpu.js';
import { checkAttention, requireInputs } from './guards.js';
import { LXMERT_ATTENTION, type AttentionAttrs } from './names.js';

export const attentionWebGPU: KernelFunc = ({ inputs, backend, attrs }) => {
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { q, k, v } = requireInputs(LXMERT_ATTENTION, named, ['q', 'k', 'v']);
  const mask = named.mask;
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
  const program = new AttentionProgram(batch, lq, a.numHeads, headDim, !!mask);
  const context = gpu.runWebGPUProgram(program, tensors, 'float32', uniforms);
  if (!a.returnProbs) return context;
  const probsProgram = new AttentionProbsProgram(batch, lq, lk, a.numHeads, headDim, !!mask);
  const probsInputs = mask ? [q, k, mask] : [q, k];
  const probs = gpu.runWebGPUProgram(probsProgram, probsInputs, 'float32', uniforms);
  return [context, probs];
};

export const attentionWebGPUConfig: KernelConfig = {
  kernelName: LXMERT_ATTENTION,
  backendName: 'webgpu',
  kernelFunc: attentionWebGPU,
};
