/**
 * Kernel registration, in one place: the WGSL programs for `webgpu`, the tf-op compositions for
 * `wasm` and `cpu`, and the tf.env() flags they read. Nothing registers at import time:
 * registerLxmertKernels() runs when a backend is selected (src/backend.ts) and before the first
 * fused op (ops.ts), and is idempotent.
 *
 * A new kernel plugs in as a trio plus its twin, like the four here:
 * - names.ts: the kernel name (`Lxmert<Name>`) and its attrs interface;
 * - guards.ts: `check<Name>(…)`, the input checks both twins call (typed InputErrors naming the
 *   argument); a kernelFunc takes its required inputs with requireInputs;
 * - `<name>.wgsl`: the WGSL body (scripts/embed-wgsl.mjs embeds it in wgsl_sources.ts); weights
 *   and tables are read through the shared decoders of weight_decoders.ts, and host-side data
 *   is encoded with src/codec/ (float16, int8, GPU words);
 * - `<name>_webgpu.ts`: the WebGPUProgram class, every compile-time choice in its shaderKey
 *   (add a row to test/kernels/shader_key.test.ts);
 * - `<Name>.ts`: the webgpu kernelFunc and its KernelConfig, added to WEBGPU_KERNELS below;
 * - `fallback/<name>.ts` and its kernelFunc in fallback/kernels.ts (fallbackKernelConfigs): the
 *   same op in plain tf ops, the wasm/cpu path and the oracle of the kernel's tests;
 * - an op in ops.ts that the model calls, and test/kernels/<name>.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { addLayerNormWebGPUConfig } from './AddLayerNorm.js';
import { attentionWebGPUConfig, groupedAttentionWebGPUConfig } from './Attention.js';
import { denseWebGPUConfig } from './Dense.js';
import { denseAddLayerNormWebGPUConfig } from './DenseAddLayerNorm.js';
import { fallbackKernelConfigs } from './fallback/kernels.js';
import { registerKernelFlags } from './flags.js';
import { gatherRowsWebGPUConfig } from './GatherRows.js';
import { roiPoolWebGPUConfig } from './RoiPool.js';

const WEBGPU_KERNELS = [
  attentionWebGPUConfig,
  groupedAttentionWebGPUConfig,
  denseWebGPUConfig,
  denseAddLayerNormWebGPUConfig,
  addLayerNormWebGPUConfig,
  gatherRowsWebGPUConfig,
  roiPoolWebGPUConfig,
];

let registered = false;

/** Register the flags and every kernel config not registered yet (safe to call more than once). */
export function registerLxmertKernels(): void {
  if (registered) return;
  registerKernelFlags();
  const configs = [
    ...WEBGPU_KERNELS,
    ...fallbackKernelConfigs('wasm'),
    ...fallbackKernelConfigs('cpu'),
  ];
  for (const config of configs) {
    if (tf.getKernel(config.kernelName, config.backendName) == null) tf.registerKernel(config);
  }
  registered = true;
}
