/**
 * Backend selection: webgpu → wasm → cpu. WebGPU comes from navigator.gpu in browsers and from
 * the `webgpu` package (Dawn) in Node; we create the GPUDevice ourselves (shader-f16 when offered,
 * limits up to the adapter's), build tf.js's WebGPUBackend on it and register the fused kernels.
 * A lost device is re-created (or, failing that, the work moves to wasm/cpu) with the weights
 * re-uploaded from host copies; withDeviceRecovery re-runs a forward that the loss interrupted.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { registerLxmertKernels } from '../kernels/register.js';
import { instrumentBackend } from '../kernels/runtime/dispatch_counter.js';
import {
  createGpuDevice,
  type AdapterSummary,
  type GpuDeviceHandle,
} from '../kernels/runtime/gpu_device.js';
import { HostMirror } from '../kernels/runtime/host_mirror.js';
import { setKernelLogger, kernelLog } from '../kernels/runtime/log.js';
import { installNavigatorGpu, isNode, nodeGpu } from '../kernels/runtime/node_gpu.js';
import { BackendError } from './errors.js';

export type BackendPreference = 'auto' | 'webgpu' | 'wasm' | 'cpu';
export type BackendName = 'webgpu' | 'wasm' | 'cpu';
export type { AdapterSummary };

export interface SelectBackendOptions {
  /** Where the choice, fallbacks and device events are reported (default console.warn). */
  log?: (message: string) => void;
  /**
   * Keep host copies of host-written tensors (weights, inputs) on webgpu so a lost device can be
   * replaced without reloading the model (default true; they share the caller's typed arrays).
   */
  keepHostCopies?: boolean;
  /**
   * Browser only: where tfjs-backend-wasm's .wasm files are served (setWasmPaths: a folder
   * prefix, or a map from file name to URL).
   */
  wasmPaths?: string | Record<string, string>;
  /** Browser only: XNNPACK threads of the threaded wasm build (default: logical cores). */
  wasmThreads?: number;
  /**
   * A backend that has not started within this many ms counts as failed (the next one is
   * tried, the reason says why): a start never hangs silently. Default 30000.
   */
  startTimeoutMs?: number;
  /** Use shader-f16 arithmetic when the adapter offers it (default true). */
  allowF16?: boolean;
}

export interface BackendSelection {
  backend: BackendName;
  /** Why this backend, in words (adapter found, or why WebGPU/WASM were passed over). */
  reason: string;
  adapterInfo?: AdapterSummary;
  /** The dense kernels compute in f16 (device created with shader-f16). */
  f16: boolean;
  /** The device's maxStorageBufferBindingSize (webgpu only). */
  maxStorageBufferBindingSize?: number;
  /**
   * wasm only: threads XNNPACK runs. tfjs-wasm caps them at half the logical cores (at most 8),
   * so a 2-core machine runs 1 thread even with the threaded build.
   */
  threads?: number;
  /** wasm only: which tfjs-wasm build runs ('threaded-simd' needs cross-origin isolation). */
  wasmBuild?: 'threaded-simd' | 'simd' | 'plain';
}

/** Resolves with `p`, or rejects with a BackendError naming `what` after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BackendError(`${what} did not finish within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

interface GpuState {
  gpu: GPU;
  handle: GpuDeviceHandle;
  backend: WebGPUBackend;
  mirror: HostMirror | null;
  allowF16: boolean;
  releasing: boolean;
  /** Bumped at every device loss. */
  generation: number;
  recovery: Promise<void> | null;
}

let state: GpuState | null = null;

/**
 * Pick and activate a backend. 'auto' and 'webgpu' try WebGPU first and fall back to wasm, then
 * cpu, when it is unavailable (the reason says why); 'wasm' falls back to cpu.
 */
export async function selectBackend(
  pref: BackendPreference = 'auto',
  options: SelectBackendOptions = {},
): Promise<BackendSelection> {
  if (options.log) setKernelLogger(options.log);
  registerLxmertKernels();
  const passedOver: string[] = [];
  if (pref === 'auto' || pref === 'webgpu') {
    const ms = options.startTimeoutMs ?? 30_000;
    const r = await within(tryWebGPU(options), ms, 'the WebGPU start').catch((e: Error) => ({
      error: e.message,
    }));
    if ('backend' in r) return r;
    passedOver.push(`webgpu: ${r.error}`);
  }
  if (pref !== 'cpu') {
    const r = await tryWasm(options);
    if (typeof r === 'object') {
      const reason = passedOver.length ? passedOver.join('; ') : 'wasm requested';
      if (passedOver.length) kernelLog(`using wasm (${reason})`);
      return { backend: 'wasm', reason, f16: false, ...r };
    }
    passedOver.push(`wasm: ${r}`);
  }
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new BackendError('the cpu backend failed to initialise');
  const reason = passedOver.length ? passedOver.join('; ') : 'cpu requested';
  if (passedOver.length) kernelLog(`using cpu (${reason})`);
  return { backend: 'cpu', reason, f16: false };
}

let wasmConfigured = false;

/** The build and its threads on success, else why wasm could not start. */
async function tryWasm(
  options: SelectBackendOptions,
): Promise<Pick<BackendSelection, 'threads' | 'wasmBuild'> | string> {
  const ms = options.startTimeoutMs ?? 30_000;
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // setWasmPaths/setThreadsCount must come before the first start (tf.findBackend would
    // already start it, so a flag says whether we have).
    if (!wasmConfigured) {
      if (options.wasmPaths) wasm.setWasmPaths(options.wasmPaths as string);
      if (options.wasmThreads) wasm.setThreadsCount(options.wasmThreads);
      wasmConfigured = true;
    }
    if (!(await within(tf.setBackend('wasm'), ms, 'the wasm backend start'))) {
      return 'the wasm backend failed to initialise';
    }
    // The threaded build's memory is shared (SharedArrayBuffer); the others' is not.
    const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
    const shared =
      typeof SharedArrayBuffer !== 'undefined' && heap?.buffer instanceof SharedArrayBuffer;
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return {
      threads: wasm.getThreadsCount(),
      wasmBuild: shared ? 'threaded-simd' : simd ? 'simd' : 'plain',
    };
  } catch (e) {
    const hint =
      e instanceof BackendError &&
      (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated
        ? ' (the threaded build: see README, "Threads")'
        : '';
    return `the wasm backend failed to load: ${(e as Error).message}${hint}`;
  }
}

async function tryWebGPU(
  options: SelectBackendOptions,
): Promise<BackendSelection | { error: string }> {
  try {
    await releaseWebGPU();
    let gpu: GPU;
    let adapter: GPUAdapter | undefined;
    let note = 'navigator.gpu';
    const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (browserGpu && !isNode()) {
      gpu = browserGpu;
    } else if (isNode()) {
      const r = await nodeGpu();
      if ('error' in r) return r;
      ({ gpu, adapter, note } = r);
      installNavigatorGpu(gpu);
    } else {
      return { error: 'navigator.gpu is not available (browser without WebGPU)' };
    }
    const allowF16 = options.allowF16 ?? true;
    const handle = await createGpuDevice(gpu, adapter, allowF16);
    if (!handle) return { error: 'navigator.gpu.requestAdapter() returned null' };
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    const mirror = options.keepHostCopies === false ? null : new HostMirror();
    const backend = await activate(new WebGPUBackend(handle.device, handle.adapter.info), mirror);
    state = {
      gpu,
      handle,
      backend,
      mirror,
      allowF16,
      releasing: false,
      generation: 0,
      recovery: null,
    };
    watchDevice(state, handle.device);
    const i = handle.info;
    return {
      backend: 'webgpu',
      reason: `WebGPU adapter ${i.vendor}/${i.architecture} (${i.description || i.device}) via ${note}`,
      adapterInfo: i,
      f16: handle.f16,
      maxStorageBufferBindingSize: handle.device.limits.maxStorageBufferBindingSize,
    };
  } catch (e) {
    return { error: `WebGPU initialisation failed: ${(e as Error).message}` };
  }
}

/** Register `backend` as 'webgpu' (replacing tf.js's own factory) and make it active. */
async function activate(backend: WebGPUBackend, mirror: HostMirror | null): Promise<WebGPUBackend> {
  if (mirror) mirror.attach(backend);
  instrumentBackend(backend);
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => backend, 3);
  if (!(await tf.setBackend('webgpu')))
    throw new BackendError('the webgpu backend failed to initialise');
  return backend;
}

function watchDevice(s: GpuState, device: GPUDevice): void {
  void device.lost.then((info) => {
    if (s.releasing || state !== s || s.handle.device !== device) return;
    s.generation++;
    kernelLog(
      `WebGPU device lost (${info.reason}: ${info.message || 'no message'}); re-creating it`,
    );
    s.recovery = recover(s).finally(() => {
      s.recovery = null;
    });
  });
}

async function recover(s: GpuState): Promise<void> {
  const old = s.backend;
  try {
    const handle = await createGpuDevice(s.gpu, undefined, s.allowF16);
    if (!handle) throw new Error('no adapter');
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    const fresh = new WebGPUBackend(handle.device, handle.adapter.info);
    if (s.mirror) s.mirror.attach(fresh);
    const moved = s.mirror ? s.mirror.rehome(old, fresh) : 0;
    s.handle = handle;
    s.backend = await activate(fresh, null);
    watchDevice(s, handle.device);
    kernelLog(`WebGPU device re-created; ${moved} host-backed tensors re-uploaded`);
  } catch (e) {
    kernelLog(
      `WebGPU device could not be re-created (${(e as Error).message}); moving to wasm/cpu`,
    );
    state = null;
    const r = await selectBackend('wasm');
    if (s.mirror) s.mirror.rehome(old, tf.backend());
    kernelLog(`now on ${r.backend}`);
  }
}

/**
 * Run `fn` (a forward that reads its results back) and, if the WebGPU device was lost while it
 * ran, wait for the new device and run it once more: same answer, never a hang on a dead device.
 */
export async function withDeviceRecovery<T>(fn: () => Promise<T>): Promise<T> {
  const s = state;
  const generation = s?.generation ?? 0;
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    await settle();
    if (!s || s.generation === generation) throw e;
    await s.recovery;
    return fn();
  }
  await settle();
  if (s && s.generation !== generation) {
    await s.recovery;
    return fn();
  }
  return result;
}

/** Let a pending device-lost notification arrive. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** The GPUDevice behind the active webgpu backend (null on other backends). */
export function currentGpuDevice(): GPUDevice | null {
  return state && tf.getBackend() === 'webgpu' ? state.handle.device : null;
}

/** Resolves once a device-loss recovery in progress, if any, has finished. */
export async function deviceRecovered(): Promise<void> {
  await settle();
  if (state?.recovery) await state.recovery;
}

/**
 * Destroy our GPUDevice and drop navigator.gpu in Node (Dawn keeps the process alive while it is
 * referenced). The 'webgpu' backend is removed; tensors on it become unusable.
 */
export async function releaseWebGPU(): Promise<void> {
  const s = state;
  if (!s) return;
  s.releasing = true;
  state = null;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  s.handle.device.destroy();
  if (isNode()) installNavigatorGpu(undefined);
}
