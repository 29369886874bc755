/* global console, process, URL */
// Which detector weights survive float16 / int8: the frcnn-narrow model with groups of weights
// rounded (in memory) as the converter would store them, run end to end on both golden images,
// and compared with the goldens as the fixture README's part B says (final 36 matched by
// IoU > 0.99; ids; largest box difference; proposals matched). Prints one line per variant.
//   npm run build && node bench/detector_quantization.mjs [wasm|cpu]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { GeneralizedRCNN } from '../dist/src/detector/index.js';
import { readImageFile } from '../dist/src/features/image_node.js';
import { loadDetector } from '../dist/src/weights/detector_node.js';
import { decodeFloat16, encodeFloat16, float16Bits } from '../dist/src/codec/float16.js';
import { dequantizeInt8, quantizeInt8 } from '../dist/src/codec/int8.js';
import { fromFloat32, toFloat32 } from '../dist/src/codec/raw_tensor.js';
import { readSafetensors } from '../dist/src/weights/safetensors.js';

const NARROW = new URL('../test/fixtures/frcnn-narrow/', import.meta.url).pathname;
await tf.setBackend(process.argv[2] ?? 'wasm');
const golden = readSafetensors(new Uint8Array(readFileSync(join(NARROW, 'golden.safetensors'))));
const g = (img, n) => toFloat32(golden.get(`${img}/${n}`));
const f16 = (t) => fromFloat32(decodeFloat16(float16Bits(encodeFloat16(toFloat32(t)))), t.shape);
const i8 = (t) => {
  const [r, c] = [t.shape[0], t.shape.slice(1).reduce((a, b) => a * b, 1)];
  return fromFloat32(dequantizeInt8(quantizeInt8(toFloat32(t), r, c), c), t.shape);
};
const weight = (n, t) => t.shape.length >= 2 && !n.includes('cell_anchors');
const VARIANTS = {
  float32: [() => false, null],
  'float16 all weights': [weight, f16],
  'float16 backbone only': [(n, t) => weight(n, t) && n.startsWith('backbone.'), f16],
  'float16 all but backbone (the converter)': [
    (n, t) => weight(n, t) && !n.startsWith('backbone.'),
    f16,
  ],
  'int8 all but backbone': [(n, t) => weight(n, t) && !n.startsWith('backbone.'), i8],
  'int8 box predictor only': [
    (n, t) => weight(n, t) && n.startsWith('roi_heads.box_predictor'),
    i8,
  ],
};
function iou(a, i, b, j) {
  const iw = Math.max(0, Math.min(a[i * 4 + 2], b[j * 4 + 2]) - Math.max(a[i * 4], b[j * 4]));
  const ih = Math.max(
    0,
    Math.min(a[i * 4 + 3], b[j * 4 + 3]) - Math.max(a[i * 4 + 1], b[j * 4 + 1]),
  );
  const area = (x, k) => (x[k * 4 + 2] - x[k * 4]) * (x[k * 4 + 3] - x[k * 4 + 1]);
  return (iw * ih) / (area(a, i) + area(b, j) - iw * ih);
}
function match(gold, ours) {
  const used = new Set();
  const pairs = [];
  for (let i = 0; i < gold.length / 4; i++) {
    let best = -1;
    let bv = 0.99;
    for (let j = 0; j < ours.length / 4; j++) {
      const v = used.has(j) ? 0 : iou(gold, i, ours, j);
      if (v > bv) [best, bv] = [j, v];
    }
    if (best < 0) continue;
    used.add(best);
    pairs.push([i, best]);
  }
  return pairs;
}
const det = await loadDetector(NARROW);
const images = Object.fromEntries(
  await Promise.all(
    ['img_a', 'img_b'].map(async (n) => [n, await readImageFile(join(NARROW, `${n}.png`))]),
  ),
);
console.log(
  `backend ${tf.getBackend()}; frcnn-narrow, both images; final boxes matched of 36, ids differing, max box diff (px), proposals matched of 300`,
);
for (const [name, [pick, q]] of Object.entries(VARIANTS)) {
  const w = new Map([...det.weights].map(([n, t]) => [n, pick(n, t) ? q(t) : t]));
  const model = GeneralizedRCNN.build(det.config, w);
  const parts = [];
  for (const [img, rgba] of Object.entries(images)) {
    const d = await model.detect(rgba);
    const gb = g(img, 'boxes');
    const pairs = match(gb, d.boxes);
    const [go, ga, gog, gag] = ['obj_ids', 'attr_ids', 'obj_logit_gap', 'attr_logit_gap'].map((n) =>
      g(img, n),
    );
    let ids = 0;
    let maxBox = 0;
    for (const [i, j] of pairs) {
      if (go[i] !== d.objIds[j] && gog[i] >= 1e-3) ids++;
      if (ga[i] !== d.attrIds[j] && gag[i] >= 1e-3) ids++;
      for (let k = 0; k < 4; k++)
        maxBox = Math.max(maxBox, Math.abs(gb[i * 4 + k] - d.boxes[j * 4 + k]));
    }
    const props = match(g(img, 'proposals'), d.proposals).length;
    parts.push(
      `${img} ${pairs.length}/36, ids ${ids}, box ${maxBox.toPrecision(2)} px, proposals ${props}/300`,
    );
  }
  model.dispose();
  console.log(`${name.padEnd(42)} ${parts.join('; ')}`);
}
