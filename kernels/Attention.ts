/**
 * LxmertAttention and LxmertGroupedAttention for webgpu: the fused context kernel, plus the
 * probabilities on request.
 */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { AttentionProbsProgram } from './attention_probs_webgpu.js';
import { AttentionProgram } from './attention_webgpu.js';
import { checkAttention, checkGroupedAttention, requireInputs } from './guards.js';
import {
  LXMERT_ATTENTION,
  LXMERT_GROUPED_ATTENTION,
  type AttentionAttrs,
  type GroupedAttentionAttrs,
} from './names.js';

type Uniform = { type: string; data: number[] };

const int = (v: number): Uniform => ({ type: 'int32', data: [v] });

export const attentionWebGPU: KernelFunc = ({ inputs, backend, attrs }) => {
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { q, k, v } = requireInputs(LXMERT_ATTENTION, named, ['q', 'k', 'v']);
  const mask = named.mask;
  const a = attrs as unknown as AttentionAttrs;
  const { batch, lq, lk, headDim } = checkAttention(q, k, v, mask, a);
  const gpu = backend as WebGPUBackend;
  const tensors = mask ? [q, k, v, mask] : [q, k, v];
  const uniforms = [
    int(a.numHeads),
    int(batch),
    int(lq),
    int(lk),
    int(q.shape[2]),
    int(k.shape[2]),
    int(v.shape[2]),
    int(a.qOffset),
    int(a.kOffset),
    int(a.vOffset),
    int(a.hidden),
    { type: 'float32', data: [1 / Math.sqrt(headDim)] },
    // One group, rows from 0.
    ...[0, 0, 0, 0, 0, 0, 0].map(int),
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

/** Both groups in one dispatch: the qkv tensor bound as q, k and v at offsets 0, H, 2H. */
export const groupedAttentionWebGPU: KernelFunc = ({ inputs, backend, attrs }) => {
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { qkv } = requireInputs(LXMERT_GROUPED_ATTENTION, named, ['qkv']);
  const { mask, mask1 } = named;
  const a = attrs as unknown as GroupedAttentionAttrs;
  const { headDim, outRows } = checkGroupedAttention(qkv, mask, mask1, a);
  const gpu = backend as WebGPUBackend;
  const two = a.groups === 2;
  const masks: boolean | [boolean, boolean] = two ? [!!mask, !!mask1] : !!mask;
  const width = 3 * a.hidden;
  const uniforms = [
    int(a.numHeads),
    int(a.batch),
    int(a.lq),
    int(a.lk),
    int(width),
    int(width),
    int(width),
    int(0),
    int(a.hidden),
    int(2 * a.hidden),
    int(a.hidden),
    { type: 'float32', data: [1 / Math.sqrt(headDim)] },
    int(a.qRow),
    int(a.kRow),
    ...(two ? [a.lq1, a.lk1, a.qRow1, a.kRow1, a.batch * a.lq] : [0, 0, 0, 0, 0]).map(int),
  ];
  const maskInputs = [mask, mask1].filter((t): t is TensorInfo => !!t);
  const lqMax = two ? Math.max(a.lq, a.lq1) : a.lq;
  const program = new AttentionProgram(a.batch, lqMax, a.numHeads, headDim, masks, outRows);
  if (!two) program.outputShape = [outRows, a.hidden];
  const tensors = [qkv, qkv, qkv, ...maskInputs];
  const context = gpu.runWebGPUProgram(program, tensors, 'float32', uniforms);
  if (!a.returnProbs) return context;
  const probsProgram = new AttentionProbsProgram(a.batch, a.lq, a.lk, a.numHeads, headDim, masks);
  const probs = gpu.runWebGPUProgram(probsProgram, [qkv, qkv, ...maskInputs], 'float32', uniforms);
  return [context, probs];
};

export const groupedAttentionWebGPUConfig: KernelConfig = {
  kernelName: LXMERT_GROUPED_ATTENTION,
  backendName: 'webgpu',
  kernelFunc: groupedAttentionWebGPU,
};
