/** WebGPU for kernel tests: Dawn over SwiftShader here (see ../shared/GPU.md), tiny shapes. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { selectBackend, type BackendSelection } from '../../src/backend.js';

/** Activate webgpu; null (with the reason logged) when this machine has none. */
export async function useWebGPU(): Promise<BackendSelection | null> {
  const log: string[] = [];
  const sel = await selectBackend('webgpu', { log: (m) => log.push(m) });
  if (sel.backend !== 'webgpu') {
    // CI sets LXMERT_REQUIRE_WEBGPU=1 so that a missing libvulkan1/chromium fails, not skips.
    if (process.env.LXMERT_REQUIRE_WEBGPU === '1') throw new Error(`no WebGPU: ${sel.reason}`);
    console.warn(`WebGPU tests skipped: ${sel.reason}`);
    return null;
  }
  return sel;
}

/** Deterministic pseudo-random floats in [-scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = ((s >>> 0) / 4294967296 - 0.5) * 2 * scale;
  }
  return a;
}

/** Run `fn` on the cpu backend and return its result's values (the oracle). */
export async function onCpu(fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  const previous = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    const out = tf.tidy(fn);
    const list = Array.isArray(out) ? out : [out];
    const values = await Promise.all(list.map((t) => t.data() as Promise<Float32Array>));
    tf.dispose(list);
    return values;
  } finally {
    await tf.setBackend(previous);
  }
}

export { maxAbs, relL2 } from '../helpers/compare.js';

/** Additive key mask [B, Lk]: 0 keep, finfo(float32).min drop; row r drops keys ≥ keep[r]. */
export function keyMask(batch: number, lk: number, keep: number[]): Float32Array {
  const m = new Float32Array(batch * lk);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < lk; j++) m[b * lk + j] = j >= keep[b] ? -3.4028234663852886e38 : 0;
  }
  return m;
}
