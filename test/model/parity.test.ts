/**
 * Parity with Hugging Face's PyTorch LXMERT: every output of every golden case, on cpu and
 * wasm, within cases.json's tolerance (max_abs and rel_l2 over the whole tensor).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromHf } from '../../src/config.js';
import { buildModel, forwardAll, type AnyLxmertModel } from '../../src/model/index.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { useBackend } from '../helpers/backends.js';
import { caseInputs, compareOutputs, diff, disposeInputs, loadGolden } from '../helpers/golden.js';
import { toFloat32 } from '../../src/codec/raw_tensor.js';

const MODELS = ['lxmert-tiny', 'lxmert-tiny-sharp', 'lxmert-tiny-qa'];

for (const backend of ['cpu', 'wasm'] as const) {
  describe.each(MODELS)(`%s on ${backend}`, (modelName) => {
    const g = loadGolden(modelName);
    let model: AnyLxmertModel;

    beforeAll(async () => {
      await useBackend(backend);
      const cfg = configFromHf(JSON.parse(readFileSync(join(g.dir, 'config.json'), 'utf8')));
      const weights = readSafetensors(
        new Uint8Array(readFileSync(join(g.dir, 'model.safetensors'))),
      );
      model = buildModel(cfg, weights);
    });
    afterAll(() => model.dispose());

    it.each(g.cases.map((c) => [c.name, c] as const))(
      '%s: every output within tolerance',
      async (_, c) => {
        const inputs = caseInputs(g, c);
        const before = tf.memory().numTensors;
        const out = forwardAll(model, inputs);
        const failures = await compareOutputs(g, c, out);
        tf.dispose(Object.values(out));
        expect(tf.memory().numTensors, 'tensors leaked by forward').toBe(before);
        disposeInputs(inputs);
        expect(failures).toEqual([]);
      },
    );

    it.each(g.cases.map((c) => [c.name, c] as const))(
      '%s: the VQA path (answerScores) gives question_answering_score',
      async (_, c) => {
        // every model here has an answer head (task_qa or LxmertForQuestionAnswering)
        if (!('answerScores' in model)) throw new Error(`${modelName} has no answer head`);
        const inputs = caseInputs(g, c);
        const before = tf.memory().numTensors;
        const scores = model.answerScores(inputs);
        const qa = c.outputs.find((o) => o.name === 'question_answering_score')!;
        const failures = await compareOutputs(
          { ...g, cases: [] },
          { ...c, outputs: [qa] },
          {
            question_answering_score: scores,
          },
        );
        scores.dispose();
        expect(tf.memory().numTensors).toBe(before);
        disposeInputs(inputs);
        expect(failures).toEqual([]);
      },
    );

    // only the folders whose goldens hold cross_encoder_attentions (lxmert-tiny-qa's do not)
    it.each(
      g.cases
        .filter((c) => c.outputs.some((o) => o.name === 'cross_encoder_attentions.0'))
        .map((c) => [c.name, c] as const),
    )(
      "%s: the VQA path's pooled-token cross attention equals cross_encoder_attentions[:, :, 0]",
      async (_, c) => {
        if (!('answerScoresWithCrossAttention' in model)) return;
        if (model.config.taskQa === false) return;
        const inputs = caseInputs(g, c);
        const before = tf.memory().numTensors;
        const r = model.answerScoresWithCrossAttention(inputs);
        const x = model.config.xLayers;
        const [b, heads, v] = [
          inputs.visualFeats.shape[0],
          model.config.numAttentionHeads,
          inputs.visualFeats.shape[1],
        ];
        expect(r.crossAttention.shape).toEqual([b, x, heads, v]);
        const got = (await r.crossAttention.data()) as Float32Array;
        const failures: string[] = [];
        for (let j = 0; j < x; j++) {
          const ref = g.tensors.get(`${c.name}/cross_encoder_attentions.${j}`)!;
          const refF = toFloat32(ref); // [B, heads, L, V]
          const l = ref.shape[2];
          const want: number[] = [];
          const mine: number[] = [];
          for (let bi = 0; bi < b; bi++)
            for (let h = 0; h < heads; h++)
              for (let k = 0; k < v; k++) {
                want.push(refF[((bi * heads + h) * l + 0) * v + k]);
                mine.push(got[((bi * x + j) * heads + h) * v + k]);
              }
          const d = diff(mine, want);
          if (!(d.maxAbs <= g.tolerance.max_abs && d.relL2 <= g.tolerance.rel_l2))
            failures.push(`layer ${j}: max_abs ${d.maxAbs} rel_l2 ${d.relL2}`);
        }
        tf.dispose([r.scores, r.crossAttention]);
        expect(tf.memory().numTensors).toBe(before);
        disposeInputs(inputs);
        expect(failures).toEqual([]);
      },
    );
  });
}
