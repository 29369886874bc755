/**
 * Pay for a computation's one-off costs before anyone waits on it. On webgpu, `run` goes through
 * tf.js's compile-only mode (WEBGPU_ENGINE_COMPILE_ONLY): every program it would dispatch is
 * compiled with createComputePipelineAsync, all in parallel, and nothing is dispatched; then we
 * wait for the compilations (checkCompileCompletionAsync). Elsewhere (wasm, cpu) `run` simply
 * runs once and is read back: XNNPACK packs each weight on its first use and the WASM heap grows
 * to its working size.
 */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';

const COMPILE_ONLY_FLAG = 'WEBGPU_ENGINE_COMPILE_ONLY';

/** What compileAhead did, for logs and benchmarks. */
export interface CompileAheadReport {
  backend: string;
  /** 'compile-only' (webgpu: pipelines compiled, nothing run) or 'run' (one real run). */
  mode: 'compile-only' | 'run';
  /** Pipelines in the webgpu backend's cache afterwards (0 elsewhere). */
  pipelines: number;
  ms: number;
}

/**
 * Run `run` (a forward that returns its outputs) ahead of time as described above. `run` must
 * not read tensor data on the host: in compile-only mode the values are not computed.
 */
export async function compileAhead(
  run: () => tf.Tensor | tf.Tensor[] | tf.NamedTensorMap,
): Promise<CompileAheadReport> {
  const t0 = performance.now();
  const backend = tf.getBackend();
  const outputs = (r: ReturnType<typeof run>): tf.Tensor[] =>
    r instanceof tf.Tensor ? [r] : Array.isArray(r) ? r : Object.values(r);
  if (backend !== 'webgpu') {
    const out = outputs(run());
    await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
    return { backend, mode: 'run', pipelines: 0, ms: performance.now() - t0 };
  }
  const gpu = tf.backend() as WebGPUBackend;
  const before = tf.env().getBool(COMPILE_ONLY_FLAG);
  tf.env().set(COMPILE_ONLY_FLAG, true);
  try {
    tf.dispose(outputs(run()));
  } finally {
    tf.env().set(COMPILE_ONLY_FLAG, before);
  }
  // Dawn in Node delivers the pipelines' promises while it processes events: keep it ticking.
  let done = false;
  const compiled = gpu.checkCompileCompletionAsync().finally(() => (done = true));
  while (!done) {
    await gpu.device.queue.onSubmittedWorkDone();
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await compiled;
  const pipelines = Object.keys(
    (gpu as unknown as { pipelineCache: Record<string, unknown> }).pipelineCache,
  ).length;
  return { backend, mode: 'compile-only', pipelines, ms: performance.now() - t0 };
}
