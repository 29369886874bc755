/** Golden fixtures: cases.json + golden.safetensors of test/fixtures/<model>. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LxmertInputs } from '../../src/model/index.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { toFloat32, toInt32, type RawTensor } from '../../src/codec/raw_tensor.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export interface GoldenCase {
  name: string;
  inputs: { name: string; tensor: string; dtype: string; shape: number[] }[];
  outputs: { name: string; tensor: string; dtype: string; shape: number[] }[];
}

export interface Golden {
  dir: string;
  cases: GoldenCase[];
  tolerance: { max_abs: number; rel_l2: number };
  tensors: Map<string, RawTensor>;
}

export function loadGolden(model: string): Golden {
  const dir = join(FIXTURES, model);
  const meta = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
  const buf = new Uint8Array(readFileSync(join(dir, 'golden.safetensors')));
  return { dir, cases: meta.cases, tolerance: meta.tolerance, tensors: readSafetensors(buf) };
}

const INPUT_KEYS: Record<string, keyof LxmertInputs> = {
  input_ids: 'inputIds',
  attention_mask: 'attentionMask',
  token_type_ids: 'tokenTypeIds',
  visual_feats: 'visualFeats',
  visual_pos: 'visualPos',
  visual_attention_mask: 'visualAttentionMask',
};

/** A case's inputs as tf tensors (ints as int32). The caller disposes them. */
export function caseInputs(g: Golden, c: GoldenCase): LxmertInputs {
  const out: Partial<Record<keyof LxmertInputs, tf.Tensor>> = {};
  for (const i of c.inputs) {
    const raw = g.tensors.get(i.tensor)!;
    const isInt = raw.dtype.startsWith('I');
    const key = INPUT_KEYS[i.name];
    const isMaskOrId = key === 'inputIds' || key === 'tokenTypeIds';
    out[key] =
      isInt && isMaskOrId
        ? tf.tensor(toInt32(raw), raw.shape, 'int32')
        : tf.tensor(toFloat32(raw), raw.shape, 'float32');
  }
  return out as LxmertInputs;
}

export function disposeInputs(x: LxmertInputs): void {
  for (const t of Object.values(x)) if (t instanceof tf.Tensor) t.dispose();
}

export interface Diff {
  maxAbs: number;
  relL2: number;
}

export function diff(got: ArrayLike<number>, ref: ArrayLike<number>): Diff {
  let maxAbs = 0;
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = got[i] - ref[i];
    if (!(Math.abs(d) <= maxAbs))
      maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, Math.abs(d));
    num += d * d;
    den += ref[i] * ref[i];
  }
  return { maxAbs, relL2: Math.sqrt(num) / Math.sqrt(den || 1) };
}

/**
 * Every golden output of case `c` against `out`, within `maxAbs` and `relL2` over the whole
 * tensor; returns the failures (empty when all pass), each naming the output and its errors.
 */
export async function compareOutputs(
  g: Golden,
  c: GoldenCase,
  out: Record<string, tf.Tensor>,
  tol: { maxAbs: number; relL2: number } = {
    maxAbs: g.tolerance.max_abs,
    relL2: g.tolerance.rel_l2,
  },
): Promise<string[]> {
  const failures: string[] = [];
  for (const o of c.outputs) {
    const name = o.tensor.slice(c.name.length + 1);
    const got = out[name];
    if (!got) {
      failures.push(`${name}: missing`);
      continue;
    }
    if (got.shape.join() !== o.shape.join()) {
      failures.push(`${name}: shape [${got.shape}] instead of [${o.shape}]`);
      continue;
    }
    const d = diff((await got.data()) as Float32Array, toFloat32(g.tensors.get(o.tensor)!));
    if (!(d.maxAbs <= tol.maxAbs && d.relL2 <= tol.relL2)) {
      failures.push(
        `${name}: max_abs ${d.maxAbs.toExponential(2)} rel_l2 ${d.relL2.toExponential(2)}`,
      );
    }
  }
  return failures;
}
