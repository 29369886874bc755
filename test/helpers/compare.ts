/**
 * Comparing outputs with Hugging Face's goldens, for the Node tests and the browser test page
 * alike (no node: imports): rel_l2 and max_abs, a golden case's inputs as tensors, and every
 * output of a case against its golden within a tolerance.
 */
import * as tf from '@tensorflow/tfjs-core';
import { toFloat32, toInt32, type RawTensor } from '../../src/codec/raw_tensor.js';
import type { LxmertInputs } from '../../src/model/index.js';

export interface Diff {
  /** Largest |got − ref| (Infinity when a NaN appears). */
  maxAbs: number;
  /** ‖got − ref‖₂ / ‖ref‖₂ over the whole tensor. */
  relL2: number;
}

export function diff(got: ArrayLike<number>, ref: ArrayLike<number>): Diff {
  if (got.length !== ref.length) return { maxAbs: Infinity, relL2: Infinity };
  let maxAbs = 0;
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = got[i] - ref[i];
    maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, Math.abs(d));
    num += d * d;
    den += ref[i] * ref[i];
  }
  return { maxAbs, relL2: Math.sqrt(num) / Math.sqrt(den || 1) };
}

export const relL2 = (got: ArrayLike<number>, ref: ArrayLike<number>): number =>
  diff(got, ref).relL2;

export const maxAbs = (got: ArrayLike<number>, ref: ArrayLike<number>): number =>
  diff(got, ref).maxAbs;

/** One case of a fixture's cases.json. */
export interface GoldenCase {
  name: string;
  inputs: { name: string; tensor: string; dtype?: string; shape: number[] }[];
  outputs: { name: string; tensor: string; dtype?: string; shape: number[] }[];
}

const INPUT_KEYS: Record<string, keyof LxmertInputs> = {
  input_ids: 'inputIds',
  attention_mask: 'attentionMask',
  token_type_ids: 'tokenTypeIds',
  visual_feats: 'visualFeats',
  visual_pos: 'visualPos',
  visual_attention_mask: 'visualAttentionMask',
};

/** A case's inputs as tf tensors (ids as int32, masks float32). The caller disposes them. */
export function goldenInputs(tensors: ReadonlyMap<string, RawTensor>, c: GoldenCase): LxmertInputs {
  const out: Partial<Record<keyof LxmertInputs, tf.Tensor>> = {};
  for (const i of c.inputs) {
    const raw = tensors.get(i.tensor)!;
    const key = INPUT_KEYS[i.name];
    const asInt = raw.dtype.startsWith('I') && (key === 'inputIds' || key === 'tokenTypeIds');
    out[key] = asInt
      ? tf.tensor(toInt32(raw), raw.shape, 'int32')
      : tf.tensor(toFloat32(raw), raw.shape, 'float32');
  }
  return out as LxmertInputs;
}

export interface CaseReport {
  /** One line per output missing, mis-shaped or out of tolerance. */
  failures: string[];
  /** The worst errors over the case's outputs. */
  worst: Diff;
  outputs: number;
}

/** Every golden output of case `c` against `out`, within `tol` over each whole tensor. */
export async function compareCase(
  tensors: ReadonlyMap<string, RawTensor>,
  c: GoldenCase,
  out: Record<string, tf.Tensor>,
  tol: Diff,
): Promise<CaseReport> {
  const report: CaseReport = { failures: [], worst: { maxAbs: 0, relL2: 0 }, outputs: 0 };
  for (const o of c.outputs) {
    const name = o.tensor.slice(c.name.length + 1);
    const got = out[name];
    if (!got) {
      report.failures.push(`${name}: missing`);
      continue;
    }
    if (got.shape.join() !== o.shape.join()) {
      report.failures.push(`${name}: shape [${got.shape}] instead of [${o.shape}]`);
      continue;
    }
    const d = diff((await got.data()) as Float32Array, toFloat32(tensors.get(o.tensor)!));
    report.outputs++;
    report.worst = {
      maxAbs: Math.max(report.worst.maxAbs, d.maxAbs),
      relL2: Math.max(report.worst.relL2, d.relL2),
    };
    if (!(d.maxAbs <= tol.maxAbs && d.relL2 <= tol.relL2)) {
      report.failures.push(
        `${name}: max_abs ${d.maxAbs.toExponential(2)} rel_l2 ${d.relL2.toExponential(2)}`,
      );
    }
  }
  return report;
}
