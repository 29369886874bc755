/**
 * The WASM GEMM engine's helper threads in Node: worker_threads running the helper's source (the
 * page's Blob worker) on the shared memory.
 */
import { Worker as NodeWorker } from 'node:worker_threads';
import type { HelperThread } from '../../kernels/wasm/gemm.js';

/** A helper thread for `new GemmEngine(module, isa, threads, nodeHelper)`. */
export function nodeHelper(source: string): HelperThread {
  const w = new NodeWorker(
    `const { parentPort } = require('node:worker_threads');\n${source}\n` +
      `parentPort.on('message', (data) => onmessage({ data }));`,
    { eval: true },
  );
  w.unref();
  return { postMessage: (m) => w.postMessage(m), terminate: () => void w.terminate() };
}
