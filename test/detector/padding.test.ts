/**
 * Fewer than max_detections boxes survive every NMS threshold (HF raises UnboundLocalError for
 * the first image there, or reuses the previous image's boxes): we return what survived, zero-
 * padded to 36, with a visual_attention_mask of ones then zeros. Thresholds of 0.02 and 0.05
 * keep only a handful of frcnn-narrow's boxes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  GeneralizedRCNN,
  finalDetections,
  type FrcnnConfig,
  selectDetections,
} from '../../src/detector/index.js';
import { useBackend } from '../helpers/backends.js';
import { fixtureImage, frcnnFixture, goldenF32, goldenInt } from './fixture.js';

const strict = (): FrcnnConfig => {
  const { config } = frcnnFixture();
  return { ...config, roiHeads: { ...config.roiHeads, nmsThreshTest: [0.02, 0.05] } };
};

/** Plain greedy NMS over HF's golden per-proposal boxes and scores (the reference). */
function referenceKeep(boxes: Float32Array, scores: Float32Array, thr: number): number[] {
  const order = [...scores.keys()].sort((a, b) => scores[b] - scores[a] || a - b);
  const keep: number[] = [];
  const area = (i: number) =>
    (boxes[i * 4 + 2] - boxes[i * 4]) * (boxes[i * 4 + 3] - boxes[i * 4 + 1]);
  for (const i of order) {
    const overlaps = keep.some((k) => {
      const w = Math.max(
        0,
        Math.min(boxes[i * 4 + 2], boxes[k * 4 + 2]) - Math.max(boxes[i * 4], boxes[k * 4]),
      );
      const h = Math.max(
        0,
        Math.min(boxes[i * 4 + 3], boxes[k * 4 + 3]) - Math.max(boxes[i * 4 + 1], boxes[k * 4 + 1]),
      );
      return (w * h) / (area(i) + area(k) - w * h) > thr;
    });
    if (!overlaps) keep.push(i);
  }
  return keep;
}

describe('fewer than 36 detections', () => {
  it('selection on HF golden inputs: the survivors of the last threshold, padded, masked', () => {
    const config = strict();
    const image = 'img_a';
    const scores = goldenF32(image, 'det_max_scores');
    const maxBoxes = goldenF32(image, 'det_max_boxes');
    const expected = referenceKeep(maxBoxes, scores, 0.05);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(36);
    // HF's per-proposal boxes as the "proposals", with zero deltas: decoding leaves them as they
    // are (to float rounding), so the selection runs on HF's boxes and scores.
    const zero = new Float32Array(maxBoxes.length);
    const sel = selectDetections({ scores, classDeltas: zero }, maxBoxes, [320, 427], config);
    expect(sel.threshold).toBe(0.05);
    expect(sel.keep).toEqual(expected);
    const per = {
      scores,
      classDeltas: zero,
      classes: goldenInt(image, 'det_max_classes'),
      attrIds: goldenInt(image, 'attr_max_ids'),
      attrProbs: goldenF32(image, 'attr_max_probs'),
    };
    const scales = [...goldenF32(image, 'scales_yx')] as [number, number];
    const fin = finalDetections(per, sel, [320, 427], scales, 36);
    const n = expected.length;
    expect([...fin.visualAttentionMask]).toEqual([
      ...new Array(n).fill(1),
      ...new Array(36 - n).fill(0),
    ]);
    expect(fin.boxes.subarray(n * 4).every((v) => v === 0)).toBe(true);
    expect(fin.objIds.subarray(n).every((v) => v === 0)).toBe(true);
    expect([...fin.objIds.subarray(0, n)]).toEqual(expected.map((i) => per.classes[i]));
  });

  it('GeneralizedRCNN.detect (wasm): numDetections < 36, features and boxes zero-padded', async () => {
    await useBackend('wasm');
    const { weights } = frcnnFixture();
    const detector = GeneralizedRCNN.build(strict(), weights);
    const before = tf.memory().numTensors;
    const d = await detector.detect(fixtureImage('img_a'));
    expect(tf.memory().numTensors).toBe(before);
    detector.dispose();
    const n = d.numDetections;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(36);
    expect(d.nmsThreshold).toBe(0.05);
    expect(d.boxes.length).toBe(36 * 4);
    expect(d.roiFeatures.length).toBe(36 * d.featureDim);
    expect([...d.visualAttentionMask]).toEqual([
      ...new Array(n).fill(1),
      ...new Array(36 - n).fill(0),
    ]);
    expect(d.roiFeatures.subarray(0, n * d.featureDim).some((v) => v !== 0)).toBe(true);
    expect(d.roiFeatures.subarray(n * d.featureDim).every((v) => v === 0)).toBe(true);
    expect(d.normalizedBoxes.subarray(n * 4).every((v) => v === 0)).toBe(true);
    // The survivors are the first detections of the full selection's NMS order, re-suppressed.
    for (let i = 1; i < n; i++) expect(d.objProbs[i]).toBeLessThanOrEqual(d.objProbs[i - 1]);
  });
});
