/* global console, process, performance */
// Peak GPU memory of the full-size detector, estimated without a GPU (issue 9 item 8): one
// detect() on wasm — same graph, same tensor shapes and lifetimes as on webgpu — while every
// tensor allocation and disposal is replayed through a model of tf.js webgpu's BufferManager:
//   - a buffer is reused only by a tensor of exactly the same byte size (getBufferKey), and
//     freed buffers stay in the pool (numBytesAllocatedInGPU);
//   - a tensor disposed while its command buffer is unsubmitted keeps its buffer until the next
//     submit (tensorDataPendingDisposal), i.e. every WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE (15)
//     dispatches or at a read-back; modelled as: every disposal waits for the next boundary of
//     15 kernel outputs (an upper bound: tf.js releases tensors not used in the open batch at once).
// Weights count from the start (they are uploaded before the timed detect). Per step (meterSteps)
// it prints live tensor bytes (exact) and the modelled GPU bytes in use / allocated.
//   npm run build && [SUBMIT_BATCH=15] node bench/detector_gpu_memory.mjs [DIR] [BINDING_BYTES]
// DIR defaults to /tmp/lxmert-frcnn-full (bench/detector_vs_torch.sh makes it); BINDING_BYTES
// sets LXMERT_MAX_BINDING_BYTES (a GPU's maxStorageBufferBindingSize), default unset.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import {
  FRCNN_STEPS,
  GeneralizedRCNN,
  meterSteps,
  regionChunkRows,
} from '../dist/src/detector/index.js';
import { readImageFile } from '../dist/src/features/image_node.js';
import { loadDetector } from '../dist/src/weights/detector_node.js';

const dir = process.argv[2] ?? '/tmp/lxmert-frcnn-full';
const binding = Number(process.argv[3] ?? 0);
// tf.js's WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE (default 15); SUBMIT_BATCH=1 models a submit per dispatch.
const BATCH = Number(process.env.SUBMIT_BATCH ?? 15);
await tf.setBackend('wasm');
tf.enableProdMode();
if (binding > 0) tf.env().set('LXMERT_MAX_BINDING_BYTES', binding);
const det = await loadDetector(dir);
const model = GeneralizedRCNN.build(det.config, det.weights);
const image = await readImageFile(`${dir}/image.png`);
console.log(
  `detector ${dir}; image ${image.width}x${image.height}; res5 chunk ≤ ${regionChunkRows(det.config)} regions; submit every ${BATCH} dispatches`,
);
// No warm-up: on wasm the weights are in memory from build(), and the model below starts from them.

const backend = tf.backend();
const sizes = new Map(); // dataId → bytes
const pool = new Map(); // bytes → free buffers
let inUse = tf.memory().numBytes;
let allocated = inUse;
let pending = [];
let outputs = 0;
const sim = Object.fromEntries(FRCNN_STEPS.map((s) => [s, { inUse: 0, allocated: 0 }]));
let step = null;
const note = () => {
  if (!step) return;
  sim[step].inUse = Math.max(sim[step].inUse, inUse);
  sim[step].allocated = Math.max(sim[step].allocated, allocated);
};
const flush = () => {
  for (const b of pending) {
    inUse -= b;
    pool.set(b, (pool.get(b) ?? 0) + 1);
  }
  pending = [];
};
const orig = { move: backend.move, disposeData: backend.disposeData, read: backend.read };
backend.move = function (dataId, values, shape, dtype, refCount) {
  const bytes = Math.ceil((shape.reduce((a, b) => a * b, 1) * 4) / 4) * 4; // 4 bytes per element (float32, int32, bool on webgpu)
  sizes.set(dataId, bytes);
  if (pool.get(bytes) > 0) pool.set(bytes, pool.get(bytes) - 1);
  else allocated += bytes;
  inUse += bytes;
  note();
  if (++outputs % BATCH === 0) flush();
  return orig.move.call(this, dataId, values, shape, dtype, refCount);
};
backend.disposeData = function (dataId, force) {
  const freed = orig.disposeData.call(this, dataId, force);
  if (freed && sizes.has(dataId)) {
    pending.push(sizes.get(dataId));
    sizes.delete(dataId);
  }
  return freed;
};
backend.read = function (dataId) {
  flush(); // a read-back submits the queue
  return orig.read.call(this, dataId);
};
const meter = meterSteps();
const t0 = performance.now();
const d = await model.detect(image, {
  onStep: (s) => {
    meter.onStep(s);
    step = s;
    note();
  },
});
step = null;
const steps = await meter.stop();
Object.assign(backend, orig);
const mib = (b) => (b / 2 ** 20).toFixed(0).padStart(5);
console.log(
  `one detect: ${(performance.now() - t0).toFixed(0)} ms, ${d.numDetections} detections, ${d.proposals.length / 4} proposals`,
);
console.log('step        live tensors MiB   modelled GPU in use MiB   modelled GPU allocated MiB');
for (const s of FRCNN_STEPS) {
  console.log(
    `${s.padEnd(10)}  ${mib(steps[s].peakTensorBytes)}              ${mib(sim[s].inUse)}                     ${mib(sim[s].allocated)}`,
  );
}
const peak = (k) => Math.max(...FRCNN_STEPS.map((s) => sim[s][k]));
console.log(
  JSON.stringify({
    peak_tensor_bytes: Math.max(...FRCNN_STEPS.map((s) => steps[s].peakTensorBytes)),
    modelled_gpu_in_use_bytes: peak('inUse'),
    modelled_gpu_allocated_bytes: peak('allocated'),
    res5_chunk_rows: regionChunkRows(det.config),
    submit_batch: BATCH,
  }),
);
model.dispose();
