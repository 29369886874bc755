/* global console */
// Where a forward's time goes, by tf.js kernel: `npm run build && node bench/profile_ops.mjs
// [--backend wasm|cpu] [--preset vqa|base|gqa]`. One VQA-path forward at lxmert-base shapes
// (batch 1, 20 tokens, 36 boxes) after 3 warm-ups, profiled with tf.profile.
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { buildModel, randomWeightSource, selectBackend } from '../dist/src/index.js';
import { presetConfig, randomInputs } from '../dist/src/cli/bench.js';
import { kernelTimes } from './kernel_times.mjs';

const { values } = parseArgs({
  options: { backend: { type: 'string' }, preset: { type: 'string' } },
});
tf.enableProdMode();
await selectBackend(values.backend ?? 'wasm');
const cfg = presetConfig(values.preset ?? 'vqa');
const model = buildModel(cfg, randomWeightSource(0));
const x = randomInputs(cfg, 1, 20, 36, 0);
const once = () => model.answerScores(x, { validate: false });
for (let i = 0; i < 3; i++) tf.dispose(await once().data());
const prof = await tf.profile(async () => {
  const s = once();
  await s.data();
  return s;
});
const { byKernel, totalMs: total } = kernelTimes(prof);
console.log(
  `${tf.getBackend()}: ${prof.kernels.length} kernels, ${total.toFixed(1)} ms of kernel time`,
);
for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
  const share = ((100 * e.ms) / total).toFixed(1);
  console.log(
    `${name.padEnd(22)} ${e.ms.toFixed(1).padStart(8)} ms ${share.padStart(5)}% ${e.calls} calls`,
  );
}
tf.dispose(Object.values(x));
model.dispose();
