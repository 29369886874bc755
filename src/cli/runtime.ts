/** Backend activation for the CLI: selectBackend, with the choice and its reason on stderr. */
import * as tf from '@tensorflow/tfjs-core';
import { releaseWebGPU, selectBackend, type BackendSelection } from '../backend.js';
import type { Checkpoint } from '../weights/checkpoint.js';
import { gpuWeightFormat } from '../weights/manifest.js';
import type { BackendName } from './backend_option.js';

let selection: BackendSelection | null = null;

export async function activateBackend(
  name: BackendName,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<BackendSelection> {
  tf.enableProdMode(); // no debug checks, no console banners
  selection = await selectBackend(name, { log: (m) => log(`lxmert: ${m}`) });
  return selection;
}

/** Free the GPU device (Dawn keeps Node alive otherwise). */
export async function releaseBackend(): Promise<void> {
  await releaseWebGPU();
}

/** One line saying what runs: the backend and its build or adapter, and why it was chosen. */
export function backendReport(): string {
  const name = tf.getBackend();
  let what: string = name;
  if (name === 'wasm') {
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
    what = `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'multi-threaded' : 'single-threaded'})`;
  } else if (name === 'webgpu' && selection?.adapterInfo) {
    const a = selection.adapterInfo;
    what = `webgpu (${Object.values(a)
      .filter((v) => typeof v === 'string' && v)
      .join(' / ')}${selection.f16 ? ', shader-f16' : ''})`;
  }
  return selection ? `${what}; ${selection.reason}` : what;
}

/** The weight storage a converted model asks for (float16/int8 stay packed on WebGPU). */
export function storedFormat(ckpt: Checkpoint): 'f32' | 'f16' | 'int8' {
  return gpuWeightFormat(ckpt.manifest);
}
