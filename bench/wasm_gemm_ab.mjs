/* global console, performance */
// The WASM GEMM kernel against tfjs-backend-wasm's matMul (XNNPACK) on the whole VQA path, in
// one process, alternating: `npm run build && node bench/wasm_gemm_ab.mjs [--runs 10]`.
// lxmert-base shapes, batch 1, 20 tokens, 36 boxes, seeded random weights; Node runs one thread
// (add --experimental-wasm-relaxed-simd on Node 20 for the relaxed-SIMD build).
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { buildModel, randomWeightSource, selectBackend } from '../dist/src/index.js';
import { presetConfig, randomInputs } from '../dist/src/cli/bench.js';
import { WASM_GEMM_FLAG } from '../dist/kernels/flags.js';
import { gemmEngine } from '../dist/kernels/wasm/gemm.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
tf.enableProdMode();
await selectBackend('wasm', { log: () => {} });
const cfg = presetConfig('vqa');
const models = {};
for (const gemm of [true, false]) {
  tf.env().set(WASM_GEMM_FLAG, gemm);
  models[gemm ? 'gemm' : 'xnnpack'] = buildModel(cfg, randomWeightSource(0));
}
const x = randomInputs(cfg, 1, 20, 36, 0);
const once = async (m) => {
  const s = m.answerScores(x, { validate: false });
  const v = await s.data();
  s.dispose();
  return v;
};
const [a, b] = [await once(models.gemm), await once(models.xnnpack)];
let maxDiff = 0;
for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
const times = { gemm: [], xnnpack: [] };
for (let i = 0; i < 2; i++) for (const m of Object.values(models)) await once(m);
for (let r = 0; r < runs; r++) {
  for (const [name, m] of Object.entries(models)) {
    const t = performance.now();
    await once(m);
    times[name].push(performance.now() - t);
  }
}
const med = (v) => [...v].sort((p, q) => p - q)[v.length >> 1];
console.log(
  JSON.stringify({
    isa: gemmEngine()?.isa,
    gemm_median_ms: med(times.gemm),
    xnnpack_median_ms: med(times.xnnpack),
    ratio: med(times.gemm) / med(times.xnnpack),
    max_abs_diff: maxDiff,
    gemm_bytes: models.gemm.parameterBytes(),
    xnnpack_tensor_bytes: models.xnnpack.parameterBytes(),
  }),
);
tf.dispose(Object.values(x));
for (const m of Object.values(models)) m.dispose();
