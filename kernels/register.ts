/** Registers the fused kernels: WGSL programs for webgpu, tf-op compositions for wasm and cpu. */
import * as tf from '@tensorflow/tfjs-core';
import { addLayerNormWebGPUConfig } from './AddLayerNorm.js';
import { denseWebGPUConfig } from './Dense.js';
import { fallbackKernelConfigs } from './fallback/kernels.js';
import { fusedAttentionWebGPUConfig } from './FusedAttention.js';
import { gatherRowsWebGPUConfig } from './GatherRows.js';

const WEBGPU_KERNELS = [
  fusedAttentionWebGPUConfig,
  denseWebGPUConfig,
  addLayerNormWebGPUConfig,
  gatherRowsWebGPUConfig,
];

/** Register every config not registered yet (safe to call more than once). */
export function registerLxmertKernels(): void {
  const configs = [
    ...WEBGPU_KERNELS,
    ...fallbackKernelConfigs('wasm'),
    ...fallbackKernelConfigs('cpu'),
  ];
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, config.backendName) == null) tf.registerKernel(config);
  }
}
