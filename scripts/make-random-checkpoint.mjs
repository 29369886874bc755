#!/usr/bin/env node
// Write a full-size LXMERT checkpoint with seeded random weights (lxmert-base-uncased shapes,
// LxmertForPreTraining: 9/5/5 layers, hidden 768, 9500 QA labels) as config.json +
// pytorch_model.bin in PyTorch's zip format. The MLM decoder (tied to the word embeddings) is
// saved as its own copy, which makes the 1.0 GB of unc-nlp/lxmert-base-uncased; with --tied it
// shares the embeddings' storage as torch.save does for tied parameters (912 MB). Streams one
// tensor at a time (the largest is 94 MB), so it needs a few hundred MB of memory.
//
//   npm run build && node scripts/make-random-checkpoint.mjs [OUTDIR] [--seed N] [--std S] [--tied]
//
// OUTDIR defaults to weights/random-lxmert-base (git-ignored).
import { mkdirSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', 'src', p));
const { TorchZipWriter } = await dist('weights/torch_writer.js');
const { expectedWeights, TIED_WEIGHTS } = await dist('model/weight_names.js');
const { configFromHf } = await dist('config.js');

const { values, positionals } = parseArgs({
  options: {
    seed: { type: 'string', default: '0' },
    std: { type: 'string', default: '0.02' },
    tied: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const outDir = positionals[0] ?? join(root, 'weights', 'random-lxmert-base');
const std = Number(values.std);

// lxmert-base-uncased's config.json (HF defaults) as LxmertForPreTraining.
const config = {
  architectures: ['LxmertForPreTraining'],
  model_type: 'lxmert',
  vocab_size: 30522,
  hidden_size: 768,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  max_position_embeddings: 512,
  type_vocab_size: 2,
  num_qa_labels: 9500,
  num_object_labels: 1600,
  num_attr_labels: 400,
  l_layers: 9,
  x_layers: 5,
  r_layers: 5,
  visual_feat_dim: 2048,
  visual_pos_dim: 4,
};

// xorshift128+ uniforms → Box–Muller normals, seeded.
let s0 = BigInt(Number(values.seed)) * 0x9e3779b97f4a7c15n + 1n;
let s1 = 0x6a09e667f3bcc909n;
const M = (1n << 64n) - 1n;
const u32 = new Uint32Array(2);
function uniforms(out) {
  for (let i = 0; i < out.length; i++) {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= (x << 23n) & M;
    s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    const r = (s1 + y) & M;
    u32[0] = Number(r >> 32n);
    out[i] = (u32[0] + 0.5) / 4294967296;
  }
}
// BigInt is slow: draw 64K uniforms per block and reuse them with per-tensor rotations.
const block = new Float64Array(65536);
uniforms(block);
function normals(n, scale, offset, rot) {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const a = block[(i + rot) & 65535];
    const b = block[(i * 7 + rot * 13 + 1) & 65535];
    const r = Math.sqrt(-2 * Math.log(a)) * scale;
    v[i] = offset + r * Math.cos(2 * Math.PI * b);
    if (i + 1 < n) v[i + 1] = offset + r * Math.sin(2 * Math.PI * b);
  }
  return v;
}

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
const cfg = configFromHf(config);
const path = join(outDir, 'pytorch_model.bin');
const w = await TorchZipWriter.create(path);
let k = 0;
const tied = [];
const kept = new Map();
for (const { name, shape } of expectedWeights(cfg, 'LxmertForPreTraining')) {
  if (TIED_WEIGHTS[name]) {
    if (values.tied) tied.push(name);
    else await w.add(name, kept.get(TIED_WEIGHTS[name]));
    continue;
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const norm = /(LayerNorm|layer_norm|logit_fc\.2)\.weight$/.test(name);
  const v = norm
    ? normals(n, 0.05, 1, k)
    : shape.length === 1
      ? normals(n, 0.05, 0, k)
      : normals(n, std, 0, k);
  k += 7919;
  const t = { dtype: 'F32', shape, bytes: new Uint8Array(v.buffer) };
  if (Object.values(TIED_WEIGHTS).includes(name)) kept.set(name, t);
  await w.add(name, t);
}
for (const name of tied) w.alias(name, TIED_WEIGHTS[name]);
await w.close();
console.log(
  `wrote ${path} (${(statSync(path).size / 1e6).toFixed(1)} MB, seed ${values.seed}, std ${std})`,
);
