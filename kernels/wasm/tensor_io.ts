/**
 * Tensors into and out of the GEMM engine without a JS array in between on tfjs-backend-wasm:
 * inputs are read where the backend keeps them (a view of its WASM heap, no dataSync() slice),
 * outputs are made from a view of the engine's memory (the backend copies values into its heap
 * when it makes a tensor). A fresh JS array per call costs ~100× the copy itself at these sizes
 * (allocation and first touch of its pages: BENCHMARKS.md, issue 11, thread scaling). On any
 * other backend: dataSync() and a copy.
 */
import * as tf from '@tensorflow/tfjs-core';

/** What is read of tfjs-backend-wasm's BackendWasm (public fields of its class). */
interface WasmBackendLike {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

function wasmBackend(): WasmBackendLike | null {
  if (tf.getBackend() !== 'wasm') return null;
  const b = tf.backend() as unknown as Partial<WasmBackendLike>;
  return b.dataIdMap && b.wasm?.HEAPU8 ? (b as WasmBackendLike) : null;
}

/**
 * A float32 tensor's values: on wasm a view of the backend's heap, valid until the next tf call
 * (copy it before making or disposing tensors); elsewhere dataSync().
 */
export function readFloats(x: tf.Tensor): Float32Array {
  const b = x.dtype === 'float32' ? wasmBackend() : null;
  const d = b?.dataIdMap.get(x.dataId);
  if (!b || !d) return x.dataSync() as Float32Array;
  return new Float32Array(b.wasm.HEAPU8.buffer, d.memoryOffset, x.size);
}

/**
 * A float32 tensor of `values`, which the caller will overwrite later: the wasm backend copies
 * them into its heap now; other backends keep the array they are given, so they get a copy.
 */
export function tensorOf(values: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(wasmBackend() ? values : values.slice(), shape, 'float32');
}
