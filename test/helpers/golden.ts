/** Golden fixtures: cases.json + golden.safetensors of test/fixtures/<model>. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { RawTensor } from '../../src/codec/raw_tensor.js';
import type { LxmertInputs } from '../../src/model/index.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { compareCase, goldenInputs, type Diff, type GoldenCase } from './compare.js';

export { diff, type Diff, type GoldenCase } from './compare.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

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

/** A case's inputs as tf tensors (ints as int32). The caller disposes them. */
export function caseInputs(g: Golden, c: GoldenCase): LxmertInputs {
  return goldenInputs(g.tensors, c);
}

export function disposeInputs(x: LxmertInputs): void {
  for (const t of Object.values(x)) if (t instanceof tf.Tensor) t.dispose();
}

/**
 * Every golden output of case `c` against `out`, within `maxAbs` and `relL2` over the whole
 * tensor; returns the failures (empty when all pass), each naming the output and its errors.
 */
export async function compareOutputs(
  g: Golden,
  c: GoldenCase,
  out: Record<string, tf.Tensor>,
  tol: Diff = { maxAbs: g.tolerance.max_abs, relL2: g.tolerance.rel_l2 },
): Promise<string[]> {
  return (await compareCase(g.tensors, c, out, tol)).failures;
}
