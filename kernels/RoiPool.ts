/**
 * LxmertRoiPool: torchvision's `RoIPool(output_size, spatial_scale)` (quantized max pooling with
 * float32 bin edges, as the bottom-up-attention detector pools res4) on a batch-1 NHWC map.
 * WGSL on webgpu (roi_pool.wgsl); the tf-op twin on wasm/cpu (fallback/roi_pool.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { InputError, formatShape } from '../src/errors.js';
import { RoiPoolProgram } from './roi_pool_webgpu.js';

/** Inputs {x [1, H, W, C], boxes [R, 4] x1,y1,x2,y2 in input pixels}; output [R, P, Q, C]. */
export const LXMERT_ROI_POOL = 'LxmertRoiPool';

export interface RoiPoolAttrs {
  pooledHeight: number;
  pooledWidth: number;
  /** Feature-map cells per input pixel (1/16 for res4). */
  spatialScale: number;
  [key: string]: number;
}

/** Check x, boxes and attrs; the bin size is computed exactly for pooled sizes below 256. */
export function checkRoiPool(x: TensorInfo, boxes: TensorInfo, a: RoiPoolAttrs): void {
  if (x.dtype !== 'float32' || x.shape.length !== 4 || x.shape[0] !== 1) {
    throw new InputError('x', 'float32 [1, H, W, C]', `${x.dtype} ${formatShape(x.shape)}`);
  }
  if (boxes.dtype !== 'float32' || boxes.shape.length !== 2 || boxes.shape[1] !== 4) {
    throw new InputError('boxes', 'float32 [R, 4]', `${boxes.dtype} ${formatShape(boxes.shape)}`);
  }
  for (const k of ['pooledHeight', 'pooledWidth'] as const) {
    const v = a[k];
    if (!Number.isInteger(v) || v < 1 || v > 255) {
      throw new InputError(k, 'an integer in [1, 255]', String(v));
    }
  }
  if (!(a.spatialScale > 0) || !Number.isFinite(a.spatialScale)) {
    throw new InputError('spatialScale', 'a positive number', String(a.spatialScale));
  }
}

export const roiPoolWebGPU: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, boxes } = inputs as Record<string, TensorInfo | undefined>;
  if (!x || !boxes) throw new Error(`${LXMERT_ROI_POOL}: x and boxes are required`);
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

/**
 * RoIPool on the active backend: x [1, H, W, C], boxes [R, 4] → [R, P, Q, C]. The kernels must be
 * registered (registerLxmertKernels in register.ts).
 */
export function roiPool(
  x: tf.Tensor4D,
  boxes: tf.Tensor2D,
  pooled: number | [number, number],
  spatialScale: number,
): tf.Tensor4D {
  const [pooledHeight, pooledWidth] = typeof pooled === 'number' ? [pooled, pooled] : pooled;
  const attrs: RoiPoolAttrs = { pooledHeight, pooledWidth, spatialScale };
  return tf.engine().runKernel(LXMERT_ROI_POOL, { x, boxes }, attrs) as tf.Tensor4D;
}
