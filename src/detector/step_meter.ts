/**
 * Per-step counters for one detect(): GPU dispatches, device → host read-backs (and their bytes),
 * GPU buffer bytes and live tensor bytes, attributed to the FrcnnStep announced last through
 * `onStep`. Counts are taken when work is issued (webgpu runs asynchronously; a dispatch, a
 * read or an allocation is issued inside the step that asks for it), so they are exact whatever
 * the timing. Bench and test instrumentation: it wraps the active backend's methods until stop().
 */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { FRCNN_STEPS, type FrcnnStep } from './generalized_rcnn.js';

export interface StepCounts {
  /** Compute dispatches issued (webgpu; 0 elsewhere). */
  dispatches: number;
  /** Device → host reads (backend read / readSync; data(), dataSync(), array() …). */
  readBacks: number;
  /** Bytes those reads returned. */
  readBackBytes: number;
  /** Peak bytes of live tf.js tensors (as tf.profile's peakBytes; weights included). */
  peakTensorBytes: number;
  /** Peak bytes in tf.js webgpu buffers in use / allocated, pool included (webgpu; 0 elsewhere). */
  peakGpuBytesInUse: number;
  peakGpuBytesAllocated: number;
}

export type StepReport = Record<FrcnnStep, StepCounts>;

export interface StepMeter {
  /** Pass as detect()'s `onStep`. */
  onStep: (step: FrcnnStep) => void;
  /** Detach from the backend (once; later calls return the same report); steps never entered count zeros. */
  stop(): Promise<StepReport>;
}

type Gpu = WebGPUBackend & {
  read: WebGPUBackend['read'];
  readSync: WebGPUBackend['readSync'];
  disposeData: WebGPUBackend['disposeData'];
};

function zeros(): StepCounts {
  return {
    dispatches: 0,
    readBacks: 0,
    readBackBytes: 0,
    peakTensorBytes: 0,
    peakGpuBytesInUse: 0,
    peakGpuBytesAllocated: 0,
  };
}

/** Start metering the active backend; steps are attributed from the first onStep call on. */
export function meterSteps(): StepMeter {
  const report = Object.fromEntries(FRCNN_STEPS.map((s) => [s, zeros()])) as StepReport;
  let current: StepCounts | null = null;
  const pending: Promise<void>[] = [];
  const backend = tf.backend() as Gpu;
  const webgpu = tf.getBackend() === 'webgpu';
  const engine = tf.engine();
  let stopped: Promise<StepReport> | undefined;

  // Live tensor bytes only rise when the engine tracks a new tensor: sampled after each one.
  // GPU bytes rise at a dispatch (or an upload) and fall at a disposal or a submit: sampled at
  // each dispatch, before each disposal and at each step boundary.
  const sample = () => {
    if (!current) return;
    current.peakTensorBytes = Math.max(current.peakTensorBytes, engine.state.numBytes);
    if (webgpu) {
      const m = backend.memory() as { numBytesInGPU: number; numBytesAllocatedInGPU: number };
      current.peakGpuBytesInUse = Math.max(current.peakGpuBytesInUse, m.numBytesInGPU);
      current.peakGpuBytesAllocated = Math.max(
        current.peakGpuBytesAllocated,
        m.numBytesAllocatedInGPU,
      );
    }
  };
  const countRead = (values: { byteLength?: number } | unknown) => {
    const n = (values as { byteLength?: number })?.byteLength;
    return typeof n === 'number' ? n : 0;
  };

  type Track = (typeof engine)['trackTensor'];
  const trackTensor: Track = engine.trackTensor;
  engine.trackTensor = (a, b) => {
    trackTensor.call(engine, a, b);
    if (current) current.peakTensorBytes = Math.max(current.peakTensorBytes, engine.state.numBytes);
  };
  const original = {
    read: backend.read,
    readSync: backend.readSync,
    disposeData: backend.disposeData,
    runWebGPUProgram: webgpu ? backend.runWebGPUProgram : undefined,
  };
  // A backend's read may call its own readSync (wasm, cpu): one read-back, counted once.
  let inRead = false;
  backend.read = (dataId) => {
    const step = current;
    if (step) step.readBacks++;
    inRead = true;
    let result;
    try {
      result = original.read.call(backend, dataId);
    } finally {
      inRead = false;
    }
    if (step) pending.push(result.then((v) => void (step.readBackBytes += countRead(v))));
    return result;
  };
  backend.readSync = (dataId) => {
    const result = original.readSync.call(backend, dataId);
    if (current && !inRead) {
      current.readBacks++;
      current.readBackBytes += countRead(result);
    }
    return result;
  };
  backend.disposeData = (dataId, force) => {
    sample();
    return original.disposeData.call(backend, dataId, force);
  };
  if (original.runWebGPUProgram) {
    const run = original.runWebGPUProgram;
    backend.runWebGPUProgram = (program, inputs, dtype, uniforms, output) => {
      const result = run.call(backend, program, inputs, dtype, uniforms, output);
      if (current && result.shape.every((d) => d > 0)) current.dispatches++;
      sample();
      return result;
    };
  }

  return {
    onStep(step) {
      sample();
      current = report[step];
      sample();
    },
    stop() {
      stopped ??= detach();
      return stopped;
    },
  };

  async function detach(): Promise<StepReport> {
    sample();
    current = null;
    engine.trackTensor = trackTensor;
    backend.read = original.read;
    backend.readSync = original.readSync;
    backend.disposeData = original.disposeData;
    if (original.runWebGPUProgram) backend.runWebGPUProgram = original.runWebGPUProgram;
    await Promise.all(pending);
    return report;
  }
}

/** The report as aligned text lines, one per step, for the CLI. */
export function formatStepReport(report: StepReport, webgpu: boolean): string[] {
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  return FRCNN_STEPS.map((s) => {
    const c = report[s];
    const gpu = webgpu
      ? `${String(c.dispatches).padStart(5)} dispatches, ${String(c.readBacks).padStart(2)} read-backs (${c.readBackBytes} B), GPU peak ${mib(c.peakGpuBytesInUse)} MiB in use / ${mib(c.peakGpuBytesAllocated)} MiB allocated, `
      : '';
    return `  ${s.padEnd(10)} ${gpu}tensors peak ${mib(c.peakTensorBytes)} MiB`;
  });
}
