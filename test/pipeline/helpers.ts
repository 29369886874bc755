/** The lxmert-vqa-tiny fixture for the VQA pipeline tests, and a model that records its inputs. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { configFromHf, type LxmertConfig } from '../../src/config.js';
import { parseObj36Tsv, type Obj36Image } from '../../src/features/obj36.js';
import type { ForwardOptions, LxmertInputs } from '../../src/model/index.js';
import type { VqaModel } from '../../src/pipeline/vqa.js';
import { LxmertTokenizer } from '../../src/tokenizer/index.js';
import type { RawTensor } from '../../src/codec/raw_tensor.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { loadGolden, type Golden } from '../helpers/golden.js';

export const VQA_TINY = 'lxmert-vqa-tiny';
export const ROOT = join(import.meta.dirname, '..', '..');

export interface VqaCase {
  name: string;
  question: string;
  img_id: string;
  /** Token strings (single cases only). */
  tokens?: string[];
  top5_labels: number[];
  top5_answers: string[];
}

export interface VqaFixture {
  golden: Golden;
  dir: string;
  config: LxmertConfig;
  weights: Map<string, RawTensor>;
  tokenizer: LxmertTokenizer;
  labels: string[];
  images: Map<string, Obj36Image>;
  /** The six single cases. */
  singles: VqaCase[];
  /** batch6's rows, in row order. */
  batch6: VqaCase[];
}

export function loadVqaFixture(): VqaFixture {
  const golden = loadGolden(VQA_TINY);
  const dir = golden.dir;
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const meta = JSON.parse(read('cases.json')) as {
    cases: (VqaCase & { rows?: (VqaCase & { case: string })[] })[];
  };
  const images = new Map(parseObj36Tsv(read('features.tsv')).map((i) => [i.imgId, i]));
  const batch = meta.cases.find((c) => c.name === 'batch6')!;
  return {
    golden,
    dir,
    config: configFromHf(JSON.parse(read('config.json'))),
    weights: readSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors')))),
    tokenizer: LxmertTokenizer.fromVocabText(read('vocab.txt')),
    labels: JSON.parse(readFileSync(join(ROOT, 'data', 'vqa-answers.json'), 'utf8')) as string[],
    images,
    singles: meta.cases.filter((c) => c.name !== 'batch6'),
    batch6: batch.rows!.map((r) => ({ ...r, name: r.case })),
  };
}

/** What one forward received and returned, as host arrays. */
export interface Recorded {
  inputIds: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
  visualFeats: Float32Array;
  visualPos: Float32Array;
  visualAttentionMask: boolean;
  shape: { inputIds: number[]; visualFeats: number[]; visualPos: number[] };
  scores: Float32Array;
  validate: boolean | undefined;
}

/** Wrap a model so every answerScores call is recorded (inputs and output read back). */
export function recording(model: VqaModel): { model: VqaModel; calls: Recorded[] } {
  const calls: Recorded[] = [];
  const wrapped: VqaModel = {
    config: model.config,
    answerScores(inputs: LxmertInputs, opts?: ForwardOptions): tf.Tensor2D {
      const out = model.answerScores(inputs, opts);
      calls.push({
        inputIds: Int32Array.from(inputs.inputIds.dataSync()),
        attentionMask: Int32Array.from(inputs.attentionMask!.dataSync()),
        tokenTypeIds: Int32Array.from(inputs.tokenTypeIds!.dataSync()),
        visualFeats: Float32Array.from(inputs.visualFeats.dataSync()),
        visualPos: Float32Array.from(inputs.visualPos.dataSync()),
        visualAttentionMask: inputs.visualAttentionMask != null,
        shape: {
          inputIds: inputs.inputIds.shape,
          visualFeats: inputs.visualFeats.shape,
          visualPos: inputs.visualPos.shape,
        },
        scores: Float32Array.from(out.dataSync()),
        validate: opts?.validate,
      });
      return out;
    },
    dispose: () => model.dispose?.(),
  };
  return { model: wrapped, calls };
}

/** Indices where two float32 arrays differ bit for bit (at most `limit`). */
export function bitDiffs(a: Float32Array, b: Float32Array, limit = 5): string[] {
  if (a.length !== b.length) return [`length ${a.length} vs ${b.length}`];
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const out: string[] = [];
  for (let i = 0; i < ua.length && out.length < limit; i++) {
    if (ua[i] !== ub[i]) out.push(`[${i}] ${a[i]} vs ${b[i]}`);
  }
  return out;
}
