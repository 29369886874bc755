#!/usr/bin/env node
// Write a small LxmertForQuestionAnswering checkpoint with seeded random weights (config.json +
// model.safetensors, Hugging Face's names) whose visual_feat_dim matches a detector's region
// features: 64 for the narrow detector fixture (shared/fixtures/frcnn-narrow, C5 = 64), so the
// demo can run photo → regions → answers end to end with tiny files. Hidden 32, 2 heads, 2/2/1
// layers, the BERT uncased vocabulary (30522) and the 3129 VQA answers, so `lxmert convert`
// adds vocab.txt and labels.json by itself. The answer head gets a larger spread than the
// encoder so the top answers are well apart. Same seed, same bytes.
//
//   npm run build && node scripts/make-random-vqa.mjs OUTDIR [--seed N] [--feat-dim 64]
//   npx lxmert convert OUTDIR weights/random-vqa-64
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', 'src', p));
const { writeSafetensors } = await dist('weights/safetensors.js');
const { expectedWeights } = await dist('model/weight_names.js');
const { configFromHf } = await dist('config.js');

const { values, positionals } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    'feat-dim': { type: 'string', default: '64' },
  },
  allowPositionals: true,
});
if (positionals.length !== 1) {
  console.error('usage: node scripts/make-random-vqa.mjs OUTDIR [--seed N] [--feat-dim 64]');
  process.exit(2);
}
const outDir = positionals[0];
const featDim = Number(values['feat-dim']);
const seed = Number(values.seed);
if (!Number.isSafeInteger(featDim) || featDim < 1 || !Number.isSafeInteger(seed)) {
  console.error(
    `--feat-dim and --seed must be integers (got ${values['feat-dim']}, ${values.seed})`,
  );
  process.exit(2);
}

const config = {
  architectures: ['LxmertForQuestionAnswering'],
  model_type: 'lxmert',
  vocab_size: 30522,
  hidden_size: 32,
  num_attention_heads: 2,
  intermediate_size: 64,
  hidden_act: 'gelu',
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  num_qa_labels: 3129,
  num_object_labels: 1600,
  num_attr_labels: 400,
  l_layers: 2,
  x_layers: 2,
  r_layers: 1,
  visual_feat_dim: featDim,
  visual_pos_dim: 4,
};

// mulberry32 uniforms → Box–Muller normals.
let state = seed >>> 0;
function uniform() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
}
function normals(n, std, mean) {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform())) * std;
    const a = 2 * Math.PI * uniform();
    v[i] = mean + r * Math.cos(a);
    if (i + 1 < n) v[i + 1] = mean + r * Math.sin(a);
  }
  return v;
}

const tensors = new Map();
for (const { name, shape } of expectedWeights(configFromHf(config), 'LxmertForQuestionAnswering')) {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = /(LayerNorm|layer_norm|logit_fc\.2)\.weight$/.test(name)
    ? normals(n, 0.05, 1)
    : shape.length === 1
      ? normals(n, 0.05, 0)
      : normals(n, name.startsWith('answer_head.') ? 0.5 : 0.1, 0);
  tensors.set(name, { dtype: 'F32', shape, bytes: new Uint8Array(v.buffer) });
}
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
const bytes = writeSafetensors(tensors, { format: 'pt' });
writeFileSync(join(outDir, 'model.safetensors'), bytes);
console.log(
  `wrote ${outDir}: LxmertForQuestionAnswering, visual_feat_dim ${featDim}, seed ${seed}, ` +
    `${tensors.size} tensors, ${(bytes.byteLength / 1e6).toFixed(1)} MB`,
);
