/** Preprocessing and the ResNet C4 backbone against frcnn-narrow's HF goldens, stage-isolated. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backbone,
  disposeResNet,
  loadResNet,
  preprocess,
  type ResNetParams,
} from '../../src/detector/index.js';
import { useBackend } from '../helpers/backends.js';
import {
  IMAGES,
  fixtureImage,
  frcnnFixture,
  goldenF32,
  goldenInt,
  goldenNhwc,
  maxAbs,
  relL2,
} from './fixture.js';

describe.each(['cpu', 'wasm'] as const)('frcnn-narrow backbone on %s', (backend) => {
  let params: ResNetParams;
  beforeAll(async () => {
    await useBackend(backend);
    const f = frcnnFixture();
    params = loadResNet(f.config, f.weights);
  });
  afterAll(() => disposeResNet(params));

  for (const image of IMAGES) {
    it(`${image}: PNG → input (max_abs 5e-3, rel_l2 1e-5), sizes and scales`, async () => {
      const f = frcnnFixture();
      const before = tf.memory().numTensors;
      const p = preprocess(fixtureImage(image), f.config);
      const ref = goldenNhwc(image, 'input');
      expect(p.input.shape).toEqual(ref.shape);
      const got = await p.input.data();
      const m = maxAbs(got, ref.values);
      expect(m).toBeLessThanOrEqual(5e-3);
      expect(relL2(got, ref.values)).toBeLessThanOrEqual(1e-5);
      expect(p.imageSize).toEqual([...goldenInt(image, 'image_size')]);
      expect(p.rawSize).toEqual([...goldenInt(image, 'raw_size')]);
      expect(p.scalesYx).toEqual([...goldenF32(image, 'scales_yx')]);
      p.input.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`${image}: golden input → res4 (rel_l2 1e-5)`, async () => {
      const input = goldenNhwc(image, 'input');
      const ref = goldenNhwc(image, 'res4');
      const before = tf.memory().numTensors;
      const x = tf.tensor4d(input.values, input.shape as [number, number, number, number]);
      const y = backbone(x, params);
      expect(y.shape).toEqual(ref.shape);
      const rel = relL2(await y.data(), ref.values);
      expect(rel).toBeLessThanOrEqual(1e-5);
      tf.dispose([x, y]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
