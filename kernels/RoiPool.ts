/**
 * LxmertRoiPool: torchvision's `RoIPool(output_size, spatial_scale)` (quantized max pooling with
 * float32 bin edges, as the bottom-up-attention detector pools res4) on a batch-1 NHWC map.
 * WGSL on webgpu (roi_pool.wgsl); the tf-op twin on wasm/cpu (fallback/roi_pool.ts).
 */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { checkRoiPool, requireInputs } from './guards.js';
import { LXMERT_ROI_POOL, type RoiPoolAttrs } from './names.js';
import { RoiPoolProgram } from './roi_pool_webgpu.js';

export const roiPoolWebGPU: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, boxes } = requireInputs(LXMERT_ROI_POOL, inputs as Record<string, TensorInfo>, [
    'x',
    'boxes',
  ]);
  const a = attrs as unknown as RoiPoolAttrs;
  checkRoiPool(x, boxes, a);
  const [, height, width, channels] = x.shape;
  const numRois = boxes.shape[0];
  const program = new RoiPoolProgram(numRois, a.pooledHeight, a.pooledWidth, channels);
  const uniforms = [
    { type: 'int32', data: [height] },
    { type: 'int32', data: [width] },
    { type: 'int32', data: [channels] },
    { type: 'int32', data: [a.pooledHeight] },
    { type: 'int32', data: [a.pooledWidth] },
    { type: 'int32', data: [numRois] },
    { type: 'float32', data: [a.spatialScale] },
  ];
  return (backend as WebGPUBackend).runWebGPUProgram(program, [x, boxes], 'float32', uniforms);
};

export const roiPoolWebGPUConfig: KernelConfig = {
  kernelName: LXMERT_ROI_POOL,
  backendName: 'webgpu',
  kernelFunc: roiPoolWebGPU,
};
