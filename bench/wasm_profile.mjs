/* global console, performance, structuredClone */
// Where one VQA forward's time goes on the wasm backend: `npm run build && node
// bench/wasm_profile.mjs [--runs 5]`. lxmert-base shapes (batch 1, 20 tokens, 36 boxes), seeded
// random weights, after 3 warm-ups. Times, per forward (median of --runs): the whole forward;
// the WASM GEMM engine's products (kernel, copies in/out), attention on the GEMM engine; the tf.js
// kernels (tf.profile, by name, top-level only) and how many tf.js ops one layer of each kind runs.
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { buildModel, randomWeightSource, selectBackend } from '../dist/src/index.js';
import { presetConfig, randomInputs } from '../dist/src/cli/bench.js';
import { kernelTimes } from './kernel_times.mjs';
import { gemmEngine, GemmEngine } from '../dist/kernels/wasm/gemm.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
tf.enableProdMode();
await selectBackend('wasm', { log: () => {} });
const cfg = presetConfig('vqa');
const model = buildModel(cfg, randomWeightSource(0));
const x = randomInputs(cfg, 1, 20, 36, 0);
const engine = gemmEngine();

// Wrap the engine's entry points with wall-clock timers (the calling thread's view).
const timers = {};
function wrap(obj, name, label = name) {
  const orig = obj[name];
  if (typeof orig !== 'function') return;
  obj[name] = function (...args) {
    const t = performance.now();
    try {
      return orig.apply(this, args);
    } finally {
      const e = (timers[label] ??= { ms: 0, calls: 0 });
      e.ms += performance.now() - t;
      e.calls++;
    }
  };
}
const proto = GemmEngine.prototype;
for (const m of Object.getOwnPropertyNames(proto)) {
  if (m !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, m).value === 'function')
    wrap(proto, m, `engine.${m}`);
}
if (engine) {
  // the raw kernel, without copies
  for (const k of Object.keys(engine)) {
    if (typeof engine[k] === 'function') wrap(engine, k, `wasm.${k}`);
  }
}
const once = async () => {
  const s = model.answerScores(x, { validate: false });
  const v = await s.data();
  s.dispose();
  return v;
};
for (let i = 0; i < 3; i++) await once();
const walls = [];
const perRun = [];
for (let r = 0; r < runs; r++) {
  for (const k of Object.keys(timers)) delete timers[k];
  const t = performance.now();
  await once();
  walls.push(performance.now() - t);
  perRun.push(structuredClone(timers));
}
const med = (v) => [...v].sort((p, q) => p - q)[v.length >> 1];
const wall = med(walls);
const mid = perRun[walls.indexOf(wall)];
const prof = await tf.profile(once);
const { byKernel, totalMs: tfMs } = kernelTimes(prof);
console.log(`isa ${engine?.isa} threads ${engine?.threads}; forward median ${wall.toFixed(1)} ms`);
console.log('JS-side (calling thread, nested timers overlap):');
for (const [k, e] of Object.entries(mid).sort((a, b) => b[1].ms - a[1].ms))
  console.log(
    `  ${k.padEnd(26)} ${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(5)} calls`,
  );
console.log(`tf.js kernels: ${prof.kernels.length} ops, ${tfMs.toFixed(1)} ms (profiled run)`);
for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14))
  console.log(
    `  ${name.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(5)} calls`,
  );
console.log(
  JSON.stringify({ wall_ms: wall, tf_kernels: prof.kernels.length, tf_kernel_ms: tfMs, js: mid }),
);
tf.dispose(Object.values(x));
model.dispose();
