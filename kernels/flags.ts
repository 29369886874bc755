/** tf.env() flags of the fused kernels (registered by registerLxmertKernels, register.ts). */
import * as tf from '@tensorflow/tfjs-core';

/** Use the registered fused kernels (default true); false = stock tf.js ops (`--no-fused`). */
export const FUSED_KERNELS_FLAG = 'LXMERT_FUSED_KERNELS';
/**
 * Bytes one storage binding may hold on webgpu; 0 (default) = the device's
 * maxStorageBufferBindingSize. Set lower to exercise the split path in tests.
 */
export const MAX_BINDING_BYTES_FLAG = 'LXMERT_MAX_BINDING_BYTES';
/** Dense program: 'auto' (default: skinny up to 64 rows, else tiled), 'tiled' or 'skinny'. */
export const DENSE_VARIANT_FLAG = 'LXMERT_DENSE_VARIANT';

/**
 * On webgpu with the fused kernels, run the grouped kernels (default true): both streams of a
 * cross-modality layer in one dispatch per op, dense + residual + LayerNorm as one dispatch.
 * false: the per-stream kernels of before (dense, then add + LayerNorm), for before/after
 * benchmarks in one process (bench/gpu).
 */
export const GROUPED_KERNELS_FLAG = 'LXMERT_GROUPED_KERNELS';

/**
 * On the wasm backend, build Linear weights for the WASM GEMM kernel (kernels/wasm/) when the
 * runtime has WASM SIMD (default true); false: transposed float32 tensors on tfjs-backend-wasm's
 * matMul (XNNPACK).
 */
export const WASM_GEMM_FLAG = 'LXMERT_WASM_GEMM';

/**
 * Threads of the WASM GEMM kernel, the calling one included; 0 (default) =
 * navigator.hardwareConcurrency where the page is cross-origin isolated, else 1. Read once, when
 * the first GEMM-packed weight is made.
 */
export const WASM_THREADS_FLAG = 'LXMERT_WASM_THREADS';

const FLAGS: [string, () => boolean | number | string][] = [
  [WASM_THREADS_FLAG, () => 0],
  [WASM_GEMM_FLAG, () => true],
  [FUSED_KERNELS_FLAG, () => true],
  [GROUPED_KERNELS_FLAG, () => true],
  [MAX_BINDING_BYTES_FLAG, () => 0],
  [DENSE_VARIANT_FLAG, () => 'auto'],
];

/** Register the flags not registered yet. */
export function registerKernelFlags(): void {
  for (const [name, evaluate] of FLAGS) {
    if (!isRegistered(name)) {
      tf.env().registerFlag(name, evaluate as () => boolean);
    }
  }
}

function isRegistered(name: string): boolean {
  try {
    tf.env().get(name);
    return true;
  } catch {
    return false;
  }
}
