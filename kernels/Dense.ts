/** LxmertDense for webgpu: dense + bias + activation with f32 / packed f16 / packed int8 weights. */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { DenseProgram, type DenseVariant } from './dense_webgpu.js';
import { DENSE_VARIANT_FLAG } from './flags.js';
import { checkDense, checkDenseGroup, requireInputs } from './guards.js';
import { LXMERT_DENSE, type DenseAttrs, type GroupedDenseAttrs } from './names.js';

/**
 * The dense program for this backend: the flag when set, else 'auto' on GPUs and 'tiled' on CPU
 * rasterizers (SwiftShader, llvmpipe), where the skinny variant's 256-thread workgroups with
 * barriers run about 1.5–2× slower.
 */
function denseVariant(backend: WebGPUBackend): DenseVariant | 'auto' {
  const flag = tf.env().get(DENSE_VARIANT_FLAG) as DenseVariant | 'auto';
  if (flag !== 'auto') return flag;
  const info = backend.adapterInfo as unknown as { vendor?: string; architecture?: string };
  const cpu = /swiftshader|llvmpipe|lavapipe/i.test(`${info.vendor} ${info.architecture}`);
  return cpu ? 'tiled' : 'auto';
}

/** Whether the device behind this backend was created with shader-f16 (see src/backend.ts). */
export function deviceHasF16(backend: WebGPUBackend): boolean {
  return backend.device.features.has('shader-f16');
}

export const denseWebGPU: KernelFunc = ({ inputs, backend, attrs }) => {
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { x, weight, bias } = requireInputs(LXMERT_DENSE, named, ['x', 'weight', 'bias']);
  const scales = named.scales;
  const a = attrs as unknown as DenseAttrs;
  const dims = checkDense(x, weight, bias, scales, a);
  const { m, n } = dims;
  // Grouped (weight1 …): rows [0, split) through the first weight set, the rest the second.
  const weight1 = named.weight1;
  const split = weight1
    ? checkDenseGroup(dims, weight1, named.bias1, named.scales1, a as GroupedDenseAttrs)
    : undefined;
  const gpu = backend as WebGPUBackend;
  const outputShape = [...x.shape.slice(0, -1), n];
  const program = new DenseProgram(
    outputShape,
    a.inFeatures,
    a.format,
    a.activation,
    deviceHasF16(gpu),
    denseVariant(gpu),
    split,
  );
  const uniforms = [
    { type: 'int32', data: [m] },
    { type: 'int32', data: [n] },
    { type: 'int32', data: [a.inFeatures] },
  ];
  const tensors = a.format === 'int8' ? [x, weight, bias, scales!] : [x, weight, bias];
  if (split !== undefined) {
    uniforms.push({ type: 'int32', data: [split] });
    tensors.push(weight1!, named.bias1!);
    if (a.format === 'int8') tensors.push(named.scales1!);
  }
  return gpu.runWebGPUProgram(program, tensors, 'float32', uniforms);
};

export const denseWebGPUConfig: KernelConfig = {
  kernelName: LXMERT_DENSE,
  backendName: 'webgpu',
  kernelFunc: denseWebGPU,
};
