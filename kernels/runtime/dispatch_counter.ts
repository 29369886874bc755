/**
 * Counts GPU dispatches by wrapping WebGPUBackend.runWebGPUProgram, the one place where tf.js's
 * webgpu backend (our kernels and its stock ones alike) records a compute dispatch. Programs with
 * an empty output are skipped, as the backend skips them.
 */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';

/** Dispatches recorded while a counter ran. */
export interface DispatchStats {
  total: number;
  /** By program class, e.g. `AttentionProgram`, `MatMulPackedProgram`. */
  byProgram: Record<string, number>;
}

/** A running counter; stop() detaches it and returns its counts. */
export interface DispatchCounter {
  stop(): DispatchStats;
}

const instrumented = new WeakSet<object>();
const active = new Set<DispatchStats>();

type RunProgram = WebGPUBackend['runWebGPUProgram'];

/** Wrap a backend's runWebGPUProgram once so counters see its dispatches. */
export function instrumentBackend(backend: WebGPUBackend): void {
  if (instrumented.has(backend)) return;
  instrumented.add(backend);
  const original: RunProgram = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (program, inputs, dtype, uniforms, output) => {
    const result = original(program, inputs, dtype, uniforms, output);
    if (active.size > 0 && result.shape.every((d) => d > 0)) {
      const name = program.constructor.name;
      for (const stats of active) {
        stats.total++;
        stats.byProgram[name] = (stats.byProgram[name] ?? 0) + 1;
      }
    }
    return result;
  };
}

/**
 * Start counting the dispatches of the active backend (instrumenting it if it is webgpu; other
 * backends dispatch nothing and count 0).
 */
export function trackDispatches(): DispatchCounter {
  if (tf.getBackend() === 'webgpu') instrumentBackend(tf.backend() as WebGPUBackend);
  const stats: DispatchStats = { total: 0, byProgram: {} };
  active.add(stats);
  return {
    stop() {
      active.delete(stats);
      return stats;
    },
  };
}

/** Bytes the webgpu backend holds in GPU buffers, or null on other backends. */
export function gpuMemory(): { bytesInUse: number; bytesAllocated: number } | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const m = tf.memory() as tf.MemoryInfo & {
    numBytesInGPU?: number;
    numBytesAllocatedInGPU?: number;
  };
  return { bytesInUse: m.numBytesInGPU ?? 0, bytesAllocated: m.numBytesAllocatedInGPU ?? 0 };
}
