/** frcnn-narrow end to end in Node: build, detect one image, check (e2e_checks.ts) and leaks. */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { GeneralizedRCNN } from '../../src/detector/index.js';
import { endToEndFailures } from './e2e_checks.js';
import { fixtureImage, frcnnFixture, goldenRaw, type ImageName } from './fixture.js';

export async function detectAndCheck(image: ImageName): Promise<void> {
  const f = frcnnFixture();
  const before = tf.memory().numTensors;
  const detector = GeneralizedRCNN.build(f.config, f.weights, { source: 'frcnn-narrow' });
  const afterBuild = tf.memory().numTensors;
  const d = await detector.detect(fixtureImage(image));
  expect(tf.memory().numTensors).toBe(afterBuild);
  detector.dispose();
  expect(tf.memory().numTensors).toBe(before);
  expect(endToEndFailures(d, (name) => goldenRaw(image, name), f.endToEnd)).toEqual([]);
}
