/**
 * The VQA path end to end on lxmert-vqa-tiny (real BERT vocabulary, real VQA label space):
 * question text + features.tsv → VqaPipeline → the same input_ids, bit-identical visual_feats /
 * visual_pos, question_answering_score within tolerance and the same top-5 answers as Hugging
 * Face, for the 6 single cases and batch6 (one forward), on cpu and wasm, without tensor leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { obj36VisualInput } from '../../src/features/obj36.js';
import { buildModel, type AnyLxmertModel } from '../../src/model/index.js';
import { VqaPipeline, type VqaModel, type VqaResult } from '../../src/pipeline/vqa.js';
import { toFloat32, toInt32 } from '../../src/codec/raw_tensor.js';
import { useBackend } from '../helpers/backends.js';
import { diff } from '../helpers/golden.js';
import { bitDiffs, loadVqaFixture, recording, type Recorded, type VqaCase } from './helpers.js';

const fx = loadVqaFixture();
const tol = fx.golden.tolerance;

function golden(name: string): Float32Array {
  return toFloat32(fx.golden.tensors.get(name)!);
}

/** Compare one forward (rows = cases in row order) and its answers with case `name`'s goldens. */
function expectMatches(name: string, call: Recorded, results: VqaResult[], cases: VqaCase[]) {
  const ints = (t: string) => Array.from(toInt32(fx.golden.tensors.get(`${name}/${t}`)!));
  expect(Array.from(call.inputIds), 'input_ids').toEqual(ints('input_ids'));
  expect(Array.from(call.attentionMask), 'attention_mask').toEqual(ints('attention_mask'));
  expect(Array.from(call.tokenTypeIds), 'token_type_ids').toEqual(ints('token_type_ids'));
  expect(call.shape.visualFeats).toEqual([cases.length, 36, 2048]);
  expect(call.shape.visualPos).toEqual([cases.length, 36, 4]);
  expect(bitDiffs(call.visualFeats, golden(`${name}/visual_feats`)), 'visual_feats').toEqual([]);
  expect(bitDiffs(call.visualPos, golden(`${name}/visual_pos`)), 'visual_pos').toEqual([]);
  expect(call.visualAttentionMask, 'no visual_attention_mask is passed').toBe(false);
  const d = diff(call.scores, golden(`${name}/question_answering_score`));
  expect(d.maxAbs, 'question_answering_score max_abs').toBeLessThanOrEqual(tol.max_abs);
  expect(d.relL2, 'question_answering_score rel_l2').toBeLessThanOrEqual(tol.rel_l2);
  const got = results.map((r) => ({
    q: r.question,
    ids: r.answers.map((a) => a.labelId),
    answers: r.answers.map((a) => a.answer),
  }));
  const want = cases.map((c) => ({ q: c.question, ids: c.top5_labels, answers: c.top5_answers }));
  expect(got).toEqual(want);
  results.forEach((r, row) => {
    expect(r.inputIds).toEqual(ints('input_ids').slice(row * 20, (row + 1) * 20));
    const n = fx.config.numQaLabels;
    for (const a of r.answers) expect(a.score).toBe(call.scores[row * n + a.labelId]);
  });
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`VqaPipeline on lxmert-vqa-tiny, ${backend}`, () => {
    let model: AnyLxmertModel;
    let rec: { model: VqaModel; calls: Recorded[] };
    let pipe: VqaPipeline;
    const image = (id: string) => obj36VisualInput(fx.images.get(id)!);

    beforeAll(async () => {
      await useBackend(backend);
      model = buildModel(fx.config, fx.weights);
      rec = recording(model as VqaModel);
      pipe = new VqaPipeline({ model: rec.model, tokenizer: fx.tokenizer, labels: fx.labels });
    });
    afterAll(() => pipe.dispose());

    it.each(fx.singles.map((c) => [c.name, c] as const))(
      '%s: inputs, scores and top-5 answers match HF',
      async (name, c) => {
        rec.calls.length = 0;
        const before = tf.memory().numTensors;
        const r = await pipe.answer(c.question, image(c.img_id));
        expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
        expect(rec.calls).toHaveLength(1);
        expect(rec.calls[0].validate).toBe(false);
        expect(r.imageIndex).toBe(0);
        expect(fx.tokenizer.convertIdsToTokens(r.inputIds)).toEqual(c.tokens);
        expectMatches(name, rec.calls[0], [r], [c]);
      },
    );

    it('batch6: six questions about their images in one forward', async () => {
      rec.calls.length = 0;
      const before = tf.memory().numTensors;
      const rows = fx.batch6;
      const results = await pipe.answer(
        rows.map((r) => r.question),
        rows.map((r) => image(r.img_id)),
      );
      expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
      expect(rec.calls).toHaveLength(1);
      expect(rec.calls[0].shape.inputIds).toEqual([6, 20]);
      expect(results.map((r) => r.imageIndex)).toEqual([0, 1, 2, 3, 4, 5]);
      expectMatches('batch6', rec.calls[0], results, rows);
    });

    it('three questions about one shared image, topK 2', async () => {
      const qs = fx.singles.filter((c) => c.img_id === 'demo_000002');
      const results = await pipe.answer(
        qs.map((c) => c.question),
        image('demo_000002'),
        { topK: 2 },
      );
      expect(results.map((r) => r.answers.map((a) => a.answer))).toEqual(
        qs.map((c) => c.top5_answers.slice(0, 2)),
      );
      expect(results.every((r) => r.imageIndex === 0)).toBe(true);
    });

    it('images with different box counts go in separate forwards, answers in order', async () => {
      rec.calls.length = 0;
      const full = image('demo_000001');
      const cut = { ...full, numBoxes: 10 };
      cut.features = full.features.slice(0, 10 * 2048);
      cut.boxes = full.boxes.slice(0, 40);
      const before = tf.memory().numTensors;
      const results = await pipe.answer(
        ['What color is the cat?', 'What color is the cat?', 'How many people are there?'],
        [full, cut, full],
      );
      expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
      expect(rec.calls.map((c) => c.shape.visualFeats)).toEqual([
        [2, 36, 2048],
        [1, 10, 2048],
      ]);
      expect(results.map((r) => r.imageIndex)).toEqual([0, 1, 2]);
      expect(results[0].answers[0].answer).toBe('teacher');
      expect(results[2].answers[0].answer).toBe('no water');
    });
  });
}
