/**
 * A small LxmertForQuestionAnswering that reads the frcnn-narrow detector's regions
 * (visual_feat_dim = C5 = 64): lxmert-vqa-tiny (real BERT vocabulary, the 3129 VQA answers,
 * well separated answer scores) with its visual feature projection `visn_fc` replaced by a
 * seeded random 32 x 64 matrix (normal, std 0.1). Written as a Hugging Face folder
 * (config.json, model.safetensors, vocab.txt) so the CLI and LxmertVqa read it as any
 * checkpoint. Random weights: the answers mean nothing, but they depend on the regions.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../../src/weights/safetensors.js';
import { FIXTURES } from './golden.js';

export const NARROW_FEATURE_DIM = 64;

/** Seeded normal(0, std) values (mulberry32 + Box-Muller). */
function normals(n: number, std: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++)
    out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) * std;
  return out;
}

/** Write the model folder into `dir` (created) and return it. */
export function writeVqaNarrow(dir: string, seed = 9): string {
  const src = join(FIXTURES, 'lxmert-vqa-tiny');
  mkdirSync(dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  config.visual_feat_dim = NARROW_FEATURE_DIM;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const weights = readSafetensors(new Uint8Array(readFileSync(join(src, 'model.safetensors'))));
  const name = 'lxmert.encoder.visn_fc.visn_fc.weight';
  const hidden = weights.get(name)!.shape[0];
  const w = normals(hidden * NARROW_FEATURE_DIM, 0.1, seed);
  weights.set(name, {
    dtype: 'F32',
    shape: [hidden, NARROW_FEATURE_DIM],
    bytes: new Uint8Array(w.buffer),
  });
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(weights, { format: 'pt' }));
  copyFileSync(join(src, 'vocab.txt'), join(dir, 'vocab.txt'));
  return dir;
}
