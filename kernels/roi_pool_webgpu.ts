/** WebGPU program of LxmertRoiPool (roi_pool.wgsl): torchvision RoIPool on an NHWC map. */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { ROI_POOL_WGSL } from './wgsl_sources.js';

const MAX_DISPATCH = 65535;
const WG = 64;

export class RoiPoolProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey = 'lxmertRoiPool';
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ['x', 'boxes'];
  uniforms =
    'height : i32, width : i32, channels : i32, pooledHeight : i32, pooledWidth : i32, ' +
    'numRois : i32, spatialScale : f32,';
  workgroupSize: [number, number, number] = [WG, 1, 1];

  /** Output [numRois, pooledHeight, pooledWidth, channels]. */
  constructor(numRois: number, pooledHeight: number, pooledWidth: number, channels: number) {
    this.outputShape = [numRois, pooledHeight, pooledWidth, channels];
    this.dispatchLayout = { x: [0, 1, 2, 3] };
    const groups = Math.ceil((numRois * pooledHeight * pooledWidth * channels) / WG);
    const dx = Math.min(groups, MAX_DISPATCH);
    this.dispatch = [dx, Math.ceil(groups / dx), 1];
  }

  getUserCode(): string {
    return ROI_POOL_WGSL;
  }
}
