/* global console, performance, process */
// Weights held and forward time on the wasm backend, float32 vs float16 vs int8 Linear weights:
// `npm run build && node bench/wasm_dtype_memory.mjs [--runs 7]`. lxmert-base shapes (VQA head,
// batch 1, 20 tokens, 36 boxes), the same seeded random weights stored three ways (every matrix
// `.weight` as float32, as float16 bits, as per-row int8 — what a converted model hands over),
// all three models built in this process, forwards interleaved (f32, f16, int8, f32, …) after 2
// warm-ups each. Prints one JSON line: per dtype the WASM GEMM bytes held (GemmEngine.bytesHeld
// after its build), the tf.js tensor bytes it added, and the median forward time.
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { buildModel, randomWeightSource, selectBackend } from '../dist/src/index.js';
import { presetConfig, randomInputs } from '../dist/src/cli/bench.js';
import { gemmEngine } from '../dist/kernels/wasm/gemm.js';
import { f32ToF16Bits } from '../dist/src/codec/float16.js';
import { quantizeInt8 } from '../dist/src/codec/int8.js';
import { quantizesToInt8 } from '../dist/src/weights/manifest.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(values.runs);
tf.enableProdMode();
await selectBackend('wasm', { log: () => {} });
const cfg = presetConfig('vqa');
const engine = gemmEngine();
if (!engine) throw new Error('no WASM GEMM engine in this runtime');

/** randomWeightSource(0) with its matrices stored as `dtype`. */
function source(dtype) {
  const base = randomWeightSource(0);
  return {
    linearFormat: base.linearFormat,
    get(name, shape) {
      const v = base.get(name, shape);
      if (dtype === 'f32' || !quantizesToInt8(name, shape)) return v;
      if (dtype === 'f16') return { f16: Uint16Array.from(v, f32ToF16Bits) };
      return quantizeInt8(v, shape[0], shape[1]);
    },
  };
}

const dtypes = ['f32', 'f16', 'int8'];
const models = {};
const result = { machine: process.arch, isa: engine.isa, runs, dtypes: {} };
for (const d of dtypes) {
  const [held, tensorBytes] = [engine.bytesHeld, tf.memory().numBytes];
  models[d] = buildModel(cfg, source(d));
  result.dtypes[d] = {
    gemmBytesHeld: engine.bytesHeld - held,
    tensorBytes: tf.memory().numBytes - tensorBytes,
    ms: [],
  };
}
const x = randomInputs(cfg, 1, 20, 36, 0);
const forward = (d) => {
  const t0 = performance.now();
  const y = models[d].answerScores(x, { validate: false });
  y.dataSync();
  const ms = performance.now() - t0;
  y.dispose();
  return ms;
};
for (let w = 0; w < 2; w++) for (const d of dtypes) forward(d);
for (let r = 0; r < runs; r++) for (const d of dtypes) result.dtypes[d].ms.push(forward(d));
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
for (const d of dtypes) {
  const e = result.dtypes[d];
  e.medianMs = Math.round(median(e.ms) * 10) / 10;
  e.ms = e.ms.map((v) => Math.round(v));
  e.heldVsF32 = Math.round((e.gemmBytesHeld / result.dtypes.f32.gemmBytesHeld) * 1000) / 1000;
}
result.wasmMemoryBytes = engine.memory.buffer.byteLength;
console.log(JSON.stringify(result));
