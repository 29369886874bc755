/**
 * TFLxmertForPreTraining and TFLxmertModel loaded from `tf_model.h5` (the lxmert-tiny-tf*
 * fixtures) against lxmert-tiny's goldens (the same weights): every output their class has, on
 * cpu and wasm, within cases.json's tolerance; forward() returns HF's output fields.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildModel,
  forwardAll,
  LxmertForPreTraining,
  LxmertModel,
  TFLxmertForPreTraining,
  TFLxmertModel,
  tupleOutput,
  TUPLE_OUTPUTS,
  type AnyLxmertModel,
} from '../../src/model/index.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { useBackend } from '../helpers/backends.js';
import {
  FIXTURES,
  caseInputs,
  compareOutputs,
  disposeInputs,
  loadGolden,
} from '../helpers/golden.js';
import { join } from 'node:path';

/** Outputs of LxmertModel: the golden names that are not a head's. */
const HEAD_OUTPUTS = new Set([
  'prediction_logits',
  'cross_relationship_score',
  'question_answering_score',
  'obj_logits',
  'attr_logits',
  'feat_regression',
]);

const MODELS = [
  ['lxmert-tiny-tf', TFLxmertForPreTraining, LxmertForPreTraining, 'TFLxmertForPreTraining'],
  ['lxmert-tiny-tf-model', TFLxmertModel, LxmertModel, 'TFLxmertModel'],
] as const;

for (const backend of ['cpu', 'wasm'] as const) {
  describe.each(MODELS)(`%s on ${backend}`, (folder, TfClass, PtClass, className) => {
    const g = loadGolden('lxmert-tiny');
    const headless = TfClass === TFLxmertModel;
    let model: AnyLxmertModel;

    beforeAll(async () => {
      await useBackend(backend);
      const ck = await loadCheckpoint(join(FIXTURES, folder));
      model = buildModel(ck.config, ck.weights, { architecture: ck.architecture });
    });
    afterAll(() => model.dispose());

    it(`is a ${className} (HF's TF class name), the same model as the PyTorch class`, () => {
      expect(model).toBeInstanceOf(TfClass);
      expect(model).toBeInstanceOf(PtClass);
      expect((model.constructor as unknown as { className: string }).className).toBe(className);
    });

    it.each(g.cases.map((c) => [c.name, c] as const))(
      '%s: every output of the class within tolerance',
      async (_, c) => {
        const outputs = c.outputs.filter((o) => !headless || !HEAD_OUTPUTS.has(o.name));
        expect(outputs.length).toBe(headless ? 19 : 25);
        const inputs = caseInputs(g, c);
        const before = tf.memory().numTensors;
        const out = forwardAll(model, inputs);
        const failures = await compareOutputs(g, { ...c, outputs }, out);
        if (headless) expect(Object.keys(out).filter((k) => HEAD_OUTPUTS.has(k))).toEqual([]);
        tf.dispose(Object.values(out));
        expect(tf.memory().numTensors, 'tensors leaked by forward').toBe(before);
        disposeInputs(inputs);
        expect(failures).toEqual([]);
      },
    );

    it('forward() gives HF output fields; tuples by tupleOutput', () => {
      const c = g.cases[0];
      const inputs = caseInputs(g, c);
      const out = model.forward(inputs, { outputHiddenStates: true, outputAttentions: true });
      const cfg = model.config;
      expect(out.language_output.shape).toEqual([1, 9, cfg.hiddenSize]);
      expect(out.pooled_output.shape).toEqual([1, cfg.hiddenSize]);
      const lengths = TUPLE_OUTPUTS.map((name) => tupleOutput(out, name).length);
      expect(lengths).toEqual([
        cfg.lLayers + cfg.xLayers,
        cfg.rLayers + cfg.xLayers,
        cfg.lLayers,
        cfg.rLayers,
        cfg.xLayers,
      ]);
      if (model instanceof LxmertForPreTraining) {
        const pre = model.forward(inputs);
        expect(pre.prediction_logits.shape).toEqual([1, 9, cfg.vocabSize]);
        expect(pre.cross_relationship_score.shape).toEqual([1, 2]);
        expect(pre.question_answering_score.shape).toEqual([1, cfg.numQaLabels]);
        tf.dispose(Object.values(pre));
      }
      tf.dispose(Object.values(out));
      disposeInputs(inputs);
    });
  });
}
