/**
 * warmUp / compileAhead: on wasm one real forward; on webgpu (Dawn over SwiftShader) every
 * pipeline compiled ahead in tf.js's compile-only mode, so that the first real answer compiles
 * nothing and still matches Hugging Face's goldens.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { releaseWebGPU } from '../../src/backend.js';
import { configFromHf } from '../../src/config.js';
import { InputError } from '../../src/errors.js';
import { buildModel, LxmertForQuestionAnswering } from '../../src/model/index.js';
import { warmUp } from '../../src/model/warm_up.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { compileAhead } from '../../kernels/runtime/compile_ahead.js';
import { useBackend } from '../helpers/backends.js';
import { caseInputs, compareOutputs, disposeInputs, loadGolden } from '../helpers/golden.js';
import { useWebGPU } from '../kernels/webgpu_env.js';

const g = loadGolden('lxmert-tiny-qa');

function build(): LxmertForQuestionAnswering {
  const cfg = configFromHf(JSON.parse(readFileSync(join(g.dir, 'config.json'), 'utf8')));
  const weights = readSafetensors(new Uint8Array(readFileSync(join(g.dir, 'model.safetensors'))));
  return buildModel(cfg, weights) as LxmertForQuestionAnswering;
}

/** The golden question_answering_score of case `c` against the model's VQA path. */
async function answerMatches(model: LxmertForQuestionAnswering, name: string): Promise<string[]> {
  const c = g.cases.find((k) => k.name === name)!;
  const inputs = caseInputs(g, c);
  const scores = model.answerScores(inputs);
  const qa = c.outputs.find((o) => o.name === 'question_answering_score')!;
  const failures = await compareOutputs(
    { ...g, cases: [] },
    { ...c, outputs: [qa] },
    { question_answering_score: scores },
    { maxAbs: 1e-4, relL2: 1e-4 },
  );
  scores.dispose();
  disposeInputs(inputs);
  return failures;
}

function pipelineCount(): number {
  const cache = (tf.backend() as unknown as { pipelineCache: Record<string, unknown> })
    .pipelineCache;
  return Object.keys(cache).length;
}

afterAll(async () => {
  await releaseWebGPU();
});

describe('warmUp', () => {
  it('wasm: one real forward, nothing leaked, answers unchanged', async () => {
    await useBackend('wasm');
    const model = build();
    const before = tf.memory().numTensors;
    const r = await warmUp(model, { batch: 2, tokens: 20, boxes: 36 });
    expect(r).toMatchObject({ backend: 'wasm', mode: 'run', pipelines: 0 });
    expect(tf.memory().numTensors).toBe(before);
    expect(await answerMatches(model, 'b2_36box')).toEqual([]);
    model.dispose();
  });

  it('bad sizes are InputErrors naming the option', async () => {
    await useBackend('cpu');
    const model = build();
    await expect(warmUp(model, { tokens: 0 })).rejects.toThrow(InputError);
    await expect(warmUp(model, { boxes: 1.5 })).rejects.toThrow(/boxes/);
    await expect(warmUp(model, { tokens: 10_000 })).rejects.toThrow(/tokens/);
    model.dispose();
  });

  // Compilation on SwiftShader takes seconds per pipeline: a longer timeout than the default.
  it(
    'webgpu: compile-only ahead, then the first answer compiles nothing and matches HF',
    {
      timeout: 600_000,
    },
    async () => {
      if (!(await useWebGPU())) return;
      const model = build();
      const c = g.cases.find((k) => k.name === 'b3_padded')!;
      const inputs = caseInputs(g, c);
      const before = tf.memory().numTensors;
      const r = await compileAhead(() => model.answerScores(inputs, { validate: false }));
      expect(r.mode).toBe('compile-only');
      expect(r.pipelines).toBeGreaterThan(5);
      expect(tf.memory().numTensors).toBe(before);
      expect(tf.env().getBool('WEBGPU_ENGINE_COMPILE_ONLY')).toBe(false);
      const compiled = pipelineCount();
      expect(await answerMatches(model, 'b3_padded')).toEqual([]);
      expect(pipelineCount(), 'no pipeline compiled by the first real answer').toBe(compiled);
      disposeInputs(inputs);
      model.dispose();
    },
  );
});
