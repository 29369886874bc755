/** Backend activation for the CLI. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { BackendError } from '../errors.js';
import type { BackendName } from './backend_option.js';

export async function activateBackend(name: BackendName): Promise<string> {
  tf.enableProdMode(); // no debug checks, no console banners
  const want = name === 'auto' ? 'wasm' : name;
  if (!(await tf.setBackend(want)))
    throw new BackendError(`backend '${want}' failed to initialise`);
  await tf.ready();
  return want;
}

/** One line saying what runs: the backend and, for wasm, the build (SIMD, threads). */
export function backendReport(): string {
  const name = tf.getBackend();
  if (name === 'wasm') {
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
    return `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'multi-threaded' : 'single-threaded'})`;
  }
  return name;
}
