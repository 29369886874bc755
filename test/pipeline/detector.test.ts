/**
 * VqaPipeline with a detector (loaded by LxmertVqa, in Node): images in, answers out, the same answers as the model fed the
 * detector's output through the obj36 path (detect → obj36 line → parseObj36Line →
 * obj36VisualInput); one detection per distinct image; padded detections masked.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectionsToObj36 } from '../../src/cli/detect.js';
import { InputError } from '../../src/errors.js';
import { readImageFile } from '../../src/features/image_node.js';
import { obj36VisualInput, parseObj36Line } from '../../src/features/obj36.js';
import type { VisualInput } from '../../src/features/validate.js';
import { LxmertVqa } from '../../src/app/lxmert_vqa.js';
import '../../src/node.js';
import { imageKey, RegionCache } from '../../src/pipeline/regions.js';
import type { VqaPipeline } from '../../src/pipeline/vqa.js';
import { useBackend } from '../helpers/backends.js';
import { NARROW } from '../helpers/frcnn_match.js';
import { writeVqaNarrow } from '../helpers/vqa_narrow.js';

const QUESTIONS = ['What color is the cat?', 'How many people are there?'];
const tmp = mkdtempSync(join(tmpdir(), 'lxmert-pipe-det-'));
let vqa: LxmertVqa;
let pipeline: VqaPipeline;
let viaObj36: VisualInput;
let bytes: Uint8Array;

beforeAll(async () => {
  await useBackend('wasm');
  vqa = await LxmertVqa.load({
    model: writeVqaNarrow(join(tmp, 'vqa')),
    detector: NARROW,
    backend: 'wasm',
    worker: false,
  });
  pipeline = vqa.pipeline;
  bytes = new Uint8Array(readFileSync(join(NARROW, 'img_a.png')));
  // The reference: the same detections written as an obj36 line and read back.
  const d = await pipeline.detector!.detect(await readImageFile(join(NARROW, 'img_a.png')));
  viaObj36 = obj36VisualInput(parseObj36Line(detectionsToObj36(d, 'img_a')));
}, 120_000);
afterAll(() => {
  vqa?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('VqaPipeline with a detector', () => {
  it('answers questions about an image as the obj36 path does, detecting it once', async () => {
    const before = tf.memory().numTensors;
    const fromImage = await pipeline.answer(QUESTIONS, bytes, { topK: 5 });
    const again = await pipeline.answer(QUESTIONS[0], new Blob([bytes as Uint8Array<ArrayBuffer>]));
    expect(pipeline.detections).toBe(1); // bytes, then a Blob of the same picture: one run
    expect(tf.memory().numTensors).toBe(before);
    const ref = await pipeline.scores(QUESTIONS, viaObj36);
    const got = await pipeline.scores(QUESTIONS, bytes);
    let worst = 0;
    got.scores.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ref.scores[i]))));
    expect(worst).toBeLessThanOrEqual(1e-4);
    const refAnswers = await pipeline.answer(QUESTIONS, viaObj36, { topK: 5 });
    expect(fromImage.map((r) => r.answers.map((a) => a.labelId))).toEqual(
      refAnswers.map((r) => r.answers.map((a) => a.labelId)),
    );
    expect(again.answers[0].labelId).toBe(refAnswers[0].answers[0].labelId);
    // The answers depend on the image: another picture changes them.
    const b = await pipeline.answer(
      QUESTIONS,
      new Uint8Array(readFileSync(join(NARROW, 'img_b.png'))),
    );
    expect(pipeline.detections).toBe(2);
    expect(b.map((r) => r.answers[0].labelId)).not.toEqual(
      fromImage.map((r) => r.answers[0].labelId),
    );
  }, 120_000);

  it('masked (padded) boxes change nothing: 36 rows with 6 masked = the first 30 rows alone', async () => {
    const regions = await pipeline.regions(bytes);
    const d = 64;
    const first30: VisualInput = {
      features: regions.features.slice(0, 30 * d),
      boxes: regions.boxes.slice(0, 30 * 4),
      numBoxes: 30,
    };
    const padded: VisualInput = {
      features: regions.features.slice(),
      boxes: regions.boxes.slice(),
      numBoxes: 36,
      attentionMask: new Float32Array(36).fill(1).fill(0, 30),
    };
    padded.features.fill(7, 30 * d); // garbage in the masked rows
    const [a, m] = [
      await pipeline.scores(QUESTIONS, first30),
      await pipeline.scores(QUESTIONS, padded),
    ];
    let worst = 0;
    a.scores.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - m.scores[i]))));
    expect(worst).toBeLessThanOrEqual(1e-4);
    const unmasked = await pipeline.scores(QUESTIONS, { ...padded, attentionMask: undefined });
    expect(Math.max(...unmasked.scores.map((v, i) => Math.abs(v - a.scores[i])))).toBeGreaterThan(
      1e-2,
    );
  });

  it('bad input', async () => {
    await expect(pipeline.answer('q?', new Uint8Array([1, 2, 3]))).rejects.toThrow(
      /image: expected a PNG or JPEG image/,
    );
    await expect(pipeline.answer(['a?', 'b?'], [bytes, new Uint8Array(0)])).rejects.toThrow(
      /images\[1\]: expected a PNG or JPEG/,
    );
    await expect(
      pipeline.answer('q?', { ...viaObj36, attentionMask: new Float32Array(3) }),
    ).rejects.toThrow(
      /image\.attentionMask: expected a Float32Array, Int32Array or Uint8Array of numBoxes = 36 values, got 3 values/,
    );
    const plainVqa = await LxmertVqa.load({ model: join(tmp, 'vqa'), backend: 'wasm' });
    const plain = plainVqa.pipeline;
    try {
      await expect(plain.answer('q?', bytes)).rejects.toThrow(InputError);
      await expect(plain.answer('q?', bytes)).rejects.toThrow(/load a detector to pass images/);
      await expect(plainVqa.answer(bytes, 'q?')).rejects.toThrow(InputError);
      await expect(plainVqa.answer(bytes, 'q?')).rejects.toThrow(/load a detector to pass images/);
    } finally {
      plainVqa.dispose();
    }
  });
});

describe('RegionCache', () => {
  it('keys by content, evicts the least recently used, forgets failures', async () => {
    const img = (v: number) => ({ width: 2, height: 1, data: new Uint8Array(8).fill(v) });
    expect(imageKey(img(1))).toBe(imageKey(img(1)));
    expect(imageKey(img(1))).not.toBe(imageKey(img(2)));
    expect(imageKey({ width: 1, height: 2, data: img(1).data })).not.toBe(imageKey(img(1)));
    const cache = new RegionCache(2);
    let runs = 0;
    const v = async (): Promise<VisualInput> => {
      runs++;
      return { features: new Float32Array(1), boxes: new Float32Array(4), numBoxes: 1 };
    };
    await cache.get('a', v);
    await cache.get('b', v);
    await cache.get('a', v); // a is now the most recent
    await cache.get('c', v); // evicts b
    await cache.get('a', v);
    expect(runs).toBe(3);
    await cache.get('b', v);
    expect(runs).toBe(4);
    await expect(cache.get('x', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await cache.get('x', v);
    expect(runs).toBe(5);
    expect(() => new RegionCache(-1)).toThrow(/regionCacheSize/);
  });
});
