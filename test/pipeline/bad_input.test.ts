/** VqaPipeline: typed errors for bad parts and bad arguments, and no tensors left behind. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { obj36VisualInput } from '../../src/features/obj36.js';
import {
  buildModel,
  LxmertForPreTraining,
  LxmertModel,
  randomWeightSource,
  type AnyLxmertModel,
} from '../../src/model/index.js';
import { VqaPipeline, type VqaModel, type VqaPipelineParts } from '../../src/pipeline/vqa.js';
import { LxmertTokenizer } from '../../src/tokenizer/index.js';
import { useBackend } from '../helpers/backends.js';
import { loadVqaFixture } from './helpers.js';

const fx = loadVqaFixture();
const img = obj36VisualInput(fx.images.get('demo_000001')!);

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<InputError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('no error thrown');
}

describe('VqaPipeline: bad input (cpu)', () => {
  let model: AnyLxmertModel;
  let pipe: VqaPipeline;
  let parts: VqaPipelineParts;

  beforeAll(async () => {
    await useBackend('cpu');
    model = buildModel(fx.config, fx.weights);
    parts = { model: model as VqaModel, tokenizer: fx.tokenizer, labels: fx.labels };
    pipe = new VqaPipeline(parts);
  });
  afterAll(() => pipe.dispose());

  it('refuses labels that do not match num_qa_labels', async () => {
    const e = await rejection(() => new VqaPipeline({ ...parts, labels: fx.labels.slice(1) }));
    expect([e.argument, e.expected, e.actual]).toEqual([
      'labels',
      'config.num_qa_labels = 3129 answer strings',
      '3128',
    ]);
    const notStrings = [1, ...fx.labels.slice(1)] as unknown as string[];
    expect(
      (await rejection(() => new VqaPipeline({ ...parts, labels: notStrings }))).argument,
    ).toBe('labels');
  });

  it('refuses a model without an answer head', async () => {
    const cfg = { ...fx.config, lLayers: 1, xLayers: 1, rLayers: 1 };
    const bare = new LxmertModel(cfg, randomWeightSource(1));
    const e = await rejection(() => new VqaPipeline({ ...parts, model: bare as never }));
    expect(e.argument).toBe('model');
    bare.dispose();
    const noQa = new LxmertForPreTraining(
      { ...cfg, taskQa: false, taskObjPredict: false },
      randomWeightSource(2),
    );
    expect((await rejection(() => new VqaPipeline({ ...parts, model: noQa }))).actual).toMatch(
      /task_qa/,
    );
    noQa.dispose();
  });

  it('refuses a tokenizer whose ids exceed vocab_size', async () => {
    const small = { ...model, config: { ...fx.config, vocabSize: 512 } } as unknown as VqaModel;
    small.answerScores = () => tf.zeros([1, 3129]) as tf.Tensor2D;
    const e = await rejection(() => new VqaPipeline({ ...parts, model: small }));
    expect([e.argument, e.expected, e.actual]).toEqual([
      'tokenizer',
      'token ids below config.vocab_size = 512',
      'a vocabulary with ids up to 30521',
    ]);
    expect(
      (await rejection(() => new VqaPipeline({ ...parts, tokenizer: {} as LxmertTokenizer })))
        .argument,
    ).toBe('tokenizer');
  });

  const q = 'What color is the cat?';
  const badCalls: [string, () => Promise<unknown>, string, RegExp][] = [
    [
      'features width ≠ visual_feat_dim',
      () => pipe.answer(q, { ...img, features: img.features.slice(0, 36 * 1024) }),
      'image.features',
      /visual_feat_dim = 36 × 2048/,
    ],
    [
      'pixel boxes',
      () => pipe.answer(q, { ...img, boxes: img.boxes.map((v) => v * 100) }),
      'image.boxes',
      /normalizeBoxes/,
    ],
    [
      'one bad image of several',
      () => pipe.answer([q, q], [img, { ...img, numBoxes: 35 }]),
      'images[1].boxes',
      /140 values/,
    ],
    ['3 images for 2 questions', () => pipe.answer([q, q], [img, img, img]), 'images', /one per/],
    ['no questions', () => pipe.answer([], img), 'questions', /non-empty/],
    ['a non-string question', () => pipe.answer([q, 7 as never], img), 'questions[1]', /string/],
    ['topK 0', () => pipe.answer(q, img, { topK: 0 }), 'topK', /positive/],
    ['topK 1.5', () => pipe.answer(q, img, { topK: 1.5 }), 'topK', /positive/],
    ['maxLength 1', () => pipe.answer(q, img, { maxLength: 1 }), 'maxLength', />= 2/],
    ['maxLength 513', () => pipe.answer(q, img, { maxLength: 513 }), 'maxLength', /512/],
  ];
  it.each(badCalls)('%s', async (_, call, argument, expected) => {
    const before = tf.memory().numTensors;
    const e = await rejection(call());
    expect(e.argument).toBe(argument);
    expect(e.expected).toMatch(expected);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('truncates long questions to maxLength and clamps topK to num_qa_labels', async () => {
    const long = Array.from({ length: 40 }, () => 'cat').join(' ') + '?';
    const r = await pipe.answer(long, img, { topK: 5000, maxLength: 12 });
    expect(r.inputIds).toHaveLength(12);
    expect(fx.tokenizer.convertIdsToTokens(r.inputIds)).toEqual([
      '[CLS]',
      ...Array(10).fill('cat'),
      '[SEP]',
    ]);
    expect(r.answers).toHaveLength(3129);
    expect(r.answers.every((a, i) => i === 0 || a.score <= r.answers[i - 1].score)).toBe(true);
  });

  it('disposes its inputs when the forward throws', async () => {
    const failing: VqaModel = {
      config: fx.config,
      answerScores: () => {
        throw new Error('boom');
      },
    };
    const p = new VqaPipeline({ ...parts, model: failing });
    const before = tf.memory().numTensors;
    await expect(p.answer(q, img)).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
  });
});
