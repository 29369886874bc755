/* global process, console, URL */
// Writes a full-size detector folder with seeded random weights (HF names and the real
// unc-nlp/frcnn-vg-finetuned shapes), for the wasm-vs-PyTorch benchmark:
//   DIR/config.yaml        the real config (frcnn-narrow's with its six narrow values restored)
//   DIR/model.safetensors  randomFrcnnWeights(frcnnFullConfig(), SEED), F32
//   DIR/image.png          the bench's synthetic 640x480 picture (resized to 800x1067)
// Both `lxmert bench --detector DIR --image DIR/image.png` and bench/frcnn_torch.py read it.
//   npm run build && node bench/make_random_detector.mjs DIR [SEED]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from 'fast-png';
import {
  frcnnFullConfig,
  parseFrcnnConfig,
  randomFrcnnWeights,
} from '../dist/src/detector/index.js';
import { syntheticImage } from '../dist/src/cli/bench_detector.js';
import { writeSafetensors } from '../dist/src/weights/safetensors.js';

const [dir, seedText = '0'] = process.argv.slice(2);
if (!dir) throw new Error('usage: node bench/make_random_detector.mjs DIR [SEED]');
const seed = Number(seedText);
const root = new URL('..', import.meta.url).pathname;
const narrow = readFileSync(join(root, 'test/fixtures/frcnn-narrow/config.yaml'), 'utf8');
const REAL = {
  stem_out_channels: 64,
  res2_out_channels: 256,
  width_per_group: 64,
  hidden_channels: 512,
  min_size_test: 800,
  max_size_test: 1333,
};
let yaml = narrow;
for (const [k, v] of Object.entries(REAL)) {
  const re = new RegExp(`^(\\s*${k}\\s*:\\s*)\\S+`, 'm');
  if (!re.test(yaml)) throw new Error(`no ${k} in the narrow config`);
  yaml = yaml.replace(re, `$1${v}`);
}
const config = parseFrcnnConfig(yaml, 'full config.yaml');
if (JSON.stringify(config) !== JSON.stringify(frcnnFullConfig())) {
  throw new Error('the restored config.yaml differs from frcnnFullConfig()');
}
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'config.yaml'), yaml);
const weights = randomFrcnnWeights(config, seed);
writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(weights, { format: 'pt' }));
const img = syntheticImage(640, 480, seed);
writeFileSync(
  join(dir, 'image.png'),
  encode({ width: 640, height: 480, data: img.data, channels: 4, depth: 8 }),
);
let n = 0;
for (const t of weights.values()) n += t.shape.reduce((a, b) => a * b, 1);
console.log(
  `wrote ${dir}: ${weights.size} tensors, ${(n / 1e6).toFixed(1)} M parameters, seed ${seed}; image.png 640x480`,
);
