/** LxmertAddLayerNorm for webgpu: residual add + LayerNorm in one dispatch. */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { AddLayerNormProgram } from './add_layer_norm_webgpu.js';
import { checkLayerNorm, requireInputs } from './guards.js';
import { LXMERT_ADD_LAYER_NORM, type AddLayerNormAttrs } from './names.js';

export const addLayerNormWebGPU: KernelFunc = ({ inputs, backend, attrs }) => {
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { x, gamma, beta } = requireInputs(LXMERT_ADD_LAYER_NORM, named, ['x', 'gamma', 'beta']);
  const residual = named.residual;
  checkLayerNorm(x, residual, gamma, beta);
  const { eps } = attrs as unknown as AddLayerNormAttrs;
  const width = x.shape[x.shape.length - 1];
  const rows = x.shape.reduce((p, d) => p * d, 1) / width;
  const program = new AddLayerNormProgram(x.shape, !!residual);
  const uniforms = [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [width] },
    { type: 'float32', data: [eps] },
  ];
  const tensors = residual ? [x, residual, gamma, beta] : [x, gamma, beta];
  return (backend as WebGPUBackend).runWebGPUProgram(program, tensors, 'float32', uniforms);
};

export const addLayerNormWebGPUConfig: KernelConfig = {
  kernelName: LXMERT_ADD_LAYER_NORM,
  backendName: 'webgpu',
  kernelFunc: addLayerNormWebGPU,
};
