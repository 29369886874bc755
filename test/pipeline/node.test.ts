/**
 * loadVqaPipeline: a Hugging Face folder and a `lxmert convert` output of lxmert-vqa-tiny give the
 * expected answers; labels and tokenizer are found as documented; bad folders are refused.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, WeightsError } from '../../src/errors.js';
import { obj36VisualInput } from '../../src/features/obj36.js';
import { loadVqaPipeline } from '../../src/pipeline/node.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { useBackend } from '../helpers/backends.js';
import { FIXTURES } from '../helpers/golden.js';
import { loadVqaFixture } from './helpers.js';

const fx = loadVqaFixture();
let tmp = '';

beforeAll(async () => {
  await useBackend('cpu');
  tmp = mkdtempSync(join(tmpdir(), 'lxmert-vqa-node-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function top5(dir: string, labels?: string[]) {
  const before = tf.memory().numTensors;
  const { pipeline, sources } = await loadVqaPipeline(dir, labels ? { labels } : {});
  const results = await pipeline.answer(
    fx.singles.map((c) => c.question),
    fx.singles.map((c) => obj36VisualInput(fx.images.get(c.img_id)!)),
  );
  pipeline.dispose();
  expect(tf.memory().numTensors, 'tensors left after dispose').toBe(before);
  return { sources, answers: results.map((r) => r.answers.map((a) => a.answer)) };
}

const want = () => fx.singles.map((c) => c.top5_answers);

describe('loadVqaPipeline', () => {
  it('a Hugging Face folder: vocab.txt there, labels from data/ by num_qa_labels', async () => {
    const r = await top5(fx.dir);
    expect(r.answers).toEqual(want());
    expect(r.sources.labels).toBe('data/vqa-answers.json');
    expect(r.sources.tokenizer).toBe(fx.dir);
    expect(r.sources.weights).toMatch(/model\.safetensors$/);
  });

  it('a converted model (float32): its own labels.json and vocab.txt', async () => {
    const out = join(tmp, 'converted');
    await convertCheckpoint(fx.dir, out);
    const r = await top5(out);
    expect(r.answers).toEqual(want());
    expect(r.sources).toMatchObject({ labels: 'labels.json', tokenizer: 'vocab.txt' });
  });

  it('options.labels (array or file) and options.backend', async () => {
    const renamed = fx.labels.map((s, i) => (i === 246 ? 'TEACHER' : s));
    const r = await top5(fx.dir, renamed);
    expect(r.answers[0][0]).toBe('TEACHER');
    expect(r.sources.labels).toBe('options.labels');
    const file = join(tmp, 'labels.txt');
    writeFileSync(file, renamed.join('\n') + '\n');
    const loaded = await loadVqaPipeline(fx.dir, { labels: file, backend: 'cpu' });
    expect(loaded.pipeline.labels[246]).toBe('TEACHER');
    expect(loaded.sources.labels).toBe(file);
    expect(loaded.backend?.backend).toBe('cpu');
    loaded.pipeline.dispose();
  });

  it('refuses labels of the wrong count, and disposes the model it built', async () => {
    const before = tf.memory().numTensors;
    await expect(loadVqaPipeline(fx.dir, { labels: ['yes', 'no'] })).rejects.toThrow(InputError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses an LxmertModel folder and a label space with no built-in list', async () => {
    const bare = join(tmp, 'bare');
    mkdirSync(bare);
    const cfg = JSON.parse(readFileSync(join(FIXTURES, 'lxmert-tiny', 'config.json'), 'utf8'));
    writeFileSync(
      join(bare, 'config.json'),
      JSON.stringify({ ...cfg, architectures: ['LxmertModel'] }),
    );
    // A copy: a link leading out of the model folder is refused (SECURITY.md).
    copyFileSync(
      join(FIXTURES, 'lxmert-tiny', 'model.safetensors'),
      join(bare, 'model.safetensors'),
    );
    await expect(loadVqaPipeline(bare)).rejects.toThrow(/no answer head/);
    await expect(loadVqaPipeline(join(FIXTURES, 'lxmert-tiny-qa'))).rejects.toThrow(
      /no answer labels for num_qa_labels = 9/,
    );
    // 9 labels given, but the default vocabulary (30522 tokens) is larger than vocab_size 512
    const e = await loadVqaPipeline(join(FIXTURES, 'lxmert-tiny-qa'), {
      labels: Array.from({ length: 9 }, (_, i) => `a${i}`),
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).argument).toBe('tokenizer');
    await expect(loadVqaPipeline(join(tmp, 'missing'))).rejects.toThrow(WeightsError);
  });
});
