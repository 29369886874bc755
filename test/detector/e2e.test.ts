/**
 * frcnn-narrow end to end (PNG → 36 regions) on wasm (both images) and cpu (img_a: tf.js's cpu
 * convolutions take ~30 s per image for res5's 300 regions); see e2e_suite.ts.
 */
import { describe, it } from 'vitest';
import { useBackend } from '../helpers/backends.js';
import { detectAndCheck } from './e2e_suite.js';

const RUNS = [
  ['wasm', 'img_a'],
  ['wasm', 'img_b'],
  ['cpu', 'img_a'],
] as const;

describe('GeneralizedRCNN end to end', () => {
  for (const [backend, image] of RUNS) {
    it(`${backend} ${image}: proposals and the 36 regions match HF's`, async () => {
      await useBackend(backend);
      await detectAndCheck(image);
    }, 120_000);
  }
});
