/** LxmertDenseAddLayerNorm for webgpu: dense + bias + residual add + LayerNorm, one dispatch. */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { DenseAddLayerNormProgram } from './dense_add_layer_norm_webgpu.js';
import { denseAddLayerNormInputs } from './guards.js';
import { LXMERT_DENSE_ADD_LAYER_NORM, type DenseAddLayerNormAttrs } from './names.js';

export const denseAddLayerNormWebGPU: KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as DenseAddLayerNormAttrs;
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { x, residual, weight, epilogue, weight1, epilogue1, dims } = denseAddLayerNormInputs(
    named,
    a,
  );
  const outputShape = [...x.shape.slice(0, -1), dims.n];
  const split = dims.groups === 2 ? dims.split : undefined;
  const program = new DenseAddLayerNormProgram(outputShape, a.inFeatures, a.format, split);
  const uniforms = [
    { type: 'int32', data: [dims.m] },
    { type: 'int32', data: [dims.n] },
    { type: 'int32', data: [a.inFeatures] },
    { type: 'int32', data: [dims.split] },
    { type: 'float32', data: [a.eps] },
  ];
  const tensors = [x, residual, weight, epilogue];
  if (weight1 && epilogue1) tensors.push(weight1, epilogue1);
  return (backend as WebGPUBackend).runWebGPUProgram(program, tensors, 'float32', uniforms);
};

export const denseAddLayerNormWebGPUConfig: KernelConfig = {
  kernelName: LXMERT_DENSE_ADD_LAYER_NORM,
  backendName: 'webgpu',
  kernelFunc: denseAddLayerNormWebGPU,
};
