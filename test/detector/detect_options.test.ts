/**
 * GeneralizedRCNN.detect's options and input checks: abort, maxDetections, onStep, submitBatch,
 * bad RgbaImage.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { GeneralizedRCNN, type FrcnnStage } from '../../src/detector/index.js';
import { useBackend } from '../helpers/backends.js';
import { fixtureImage, frcnnFixture, goldenF32 } from './fixture.js';

let detector: GeneralizedRCNN;
beforeAll(async () => {
  await useBackend('wasm');
  const { config, weights } = frcnnFixture();
  detector = GeneralizedRCNN.build(config, weights);
});
afterAll(() => detector.dispose());

describe('GeneralizedRCNN.detect options', () => {
  it('an AbortSignal aborted mid-detection stops it with no tensor left behind', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    const stages: FrcnnStage[] = [];
    const run = detector.detect(fixtureImage('img_b'), {
      signal: controller.signal,
      onStage: (stage) => {
        stages.push(stage);
        if (stage === 'rpn') controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(stages).toEqual(['preprocess', 'backbone', 'rpn']);
    expect(tf.memory().numTensors).toBe(before);
    const aborted = AbortSignal.abort(new Error('stop'));
    await expect(detector.detect(fixtureImage('img_b'), { signal: aborted })).rejects.toThrow(
      'stop',
    );
  });

  it('maxDetections 10: the first 10 of the 36, in order', async () => {
    const d = await detector.detect(fixtureImage('img_b'), { maxDetections: 10 });
    expect(d.numDetections).toBe(10);
    expect(d.boxes.length).toBe(40);
    expect(d.roiFeatures.length).toBe(10 * d.featureDim);
    const golden = goldenF32('img_b', 'boxes').subarray(0, 40);
    let worst = 0;
    for (let i = 0; i < 40; i++) worst = Math.max(worst, Math.abs(d.boxes[i] - golden[i]));
    expect(worst).toBeLessThanOrEqual(0.01);
    await expect(detector.detect(fixtureImage('img_b'), { maxDetections: 0 })).rejects.toThrow(
      InputError,
    );
  });

  it('onStep announces every step in order, RoIPool and res5 once per chunk; submitBatch is checked', async () => {
    const steps: string[] = [];
    await detector.detect(fixtureImage('img_b'), { onStep: (s) => steps.push(s) });
    // 300 regions: one chunk on wasm (REGION_CHUNK_BYTES at the narrow widths).
    expect(steps).toEqual(['preprocess', 'backbone', 'rpn', 'roiPool', 'res5', 'heads', 'nms']);
    await expect(detector.detect(fixtureImage('img_b'), { submitBatch: 0 })).rejects.toThrow(
      /submitBatch: expected a positive integer, got 0/,
    );
  });

  it('a zero-size or inconsistent RgbaImage is an InputError naming the field', async () => {
    const zero = { width: 0, height: 10, data: new Uint8Array(0) };
    await expect(detector.detect(zero)).rejects.toThrow(/image\.width: expected a positive/);
    const short = { width: 4, height: 4, data: new Uint8Array(60) };
    await expect(detector.detect(short)).rejects.toThrow(
      /image\.data: expected 4×4×4 = 64 RGBA bytes, got 60 bytes/,
    );
  });
});
