import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { configFromHf } from '/work/main/dist/src/config.js';
import { buildModel, weightSourceFromMap, forwardAll } from '/work/main/dist/src/model/index.js';
import { setFusedKernels } from '/work/main/dist/kernels/ops.js';
import { readSafetensors } from '/work/main/dist/src/weights/safetensors.js';
await tf.setBackend('cpu');
const dir = '/work/main/test/fixtures/lxmert-tiny';
const cfg = configFromHf(JSON.parse(readFileSync(dir + '/config.json', 'utf8')));
const w = readSafetensors(new Uint8Array(readFileSync(dir + '/model.safetensors')));
console.log('arch', cfg.architectures, 'vocab', cfg.vocabSize, 'H', cfg.hiddenSize);
for (const fmt of ['f32-in-out', 'f16', 'int8']) {
  const before = tf.memory().numTensors;
  const m = buildModel(cfg, weightSourceFromMap(w, 'w', fmt));
  const x = {
    inputIds: tf.tensor2d([[101, 7, 30, 45, 102]], undefined, 'int32'),
    visualFeats: tf.randomNormal([1, 3, cfg.visualFeatDim]),
    visualPos: tf.randomUniform([1, 3, cfg.visualPosDim]),
  };
  const out = m.forward(x);
  tf.dispose(Object.values(out)); tf.dispose(Object.values(x));
  m.dispose();
  console.log(fmt, 'tensors left after dispose:', tf.memory().numTensors - before);
}
