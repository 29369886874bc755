/**
 * frcnn-narrow end to end: PNG → GeneralizedRCNN.detect → the 36 regions, against HF's goldens
 * in float32 (README "How to compare", B): proposals and the final 36 matched as sets by IoU,
 * then per matched pair within cases.json's end_to_end tolerances.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { GeneralizedRCNN, type FrcnnDetections } from '../../src/detector/index.js';
import {
  fixtureImage,
  frcnnFixture,
  goldenF32,
  goldenInt,
  maxAbs,
  relL2,
  type ImageName,
} from './fixture.js';

export function iou(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const w = Math.max(0, Math.min(a[i * 4 + 2], b[j * 4 + 2]) - Math.max(a[i * 4], b[j * 4]));
  const h = Math.max(
    0,
    Math.min(a[i * 4 + 3], b[j * 4 + 3]) - Math.max(a[i * 4 + 1], b[j * 4 + 1]),
  );
  const inter = w * h;
  const area = (v: ArrayLike<number>, k: number) =>
    (v[k * 4 + 2] - v[k * 4]) * (v[k * 4 + 3] - v[k * 4 + 1]);
  return inter / (area(a, i) + area(b, j) - inter);
}

/** Greedy one-to-one match of golden boxes to ours by IoU > thr: pairs [golden, ours]. */
export function matchBoxes(
  golden: ArrayLike<number>,
  ours: ArrayLike<number>,
  n: number,
  m: number,
  thr: number,
): [number, number][] {
  const used = new Uint8Array(m);
  const pairs: [number, number][] = [];
  for (let g = 0; g < n; g++) {
    let best = -1;
    let bestIou = thr;
    for (let o = 0; o < m; o++) {
      if (used[o]) continue;
      const v = iou(golden, g, ours, o);
      if (v > bestIou) {
        bestIou = v;
        best = o;
      }
    }
    if (best >= 0) {
      used[best] = 1;
      pairs.push([g, best]);
    }
  }
  return pairs;
}

/** Every end-to-end check of one image's detections against the goldens. */
export function checkEndToEnd(image: ImageName, d: FrcnnDetections): void {
  const tol = frcnnFixture().endToEnd;
  expect(d.imageSize).toEqual([...goldenInt(image, 'image_size')]);
  expect(d.rawSize).toEqual([...goldenInt(image, 'raw_size')]);
  expect(d.scalesYx).toEqual([...goldenF32(image, 'scales_yx')]);

  const gp = goldenF32(image, 'proposals');
  const np = gp.length / 4;
  expect(d.proposals.length).toBe(gp.length);
  const proposalPairs = matchBoxes(gp, d.proposals, np, np, tol.proposal_match_iou);
  expect(proposalPairs.length).toBe(np);

  const gb = goldenF32(image, 'boxes');
  const slots = gb.length / 4;
  expect(d.numDetections).toBe(slots);
  expect([...d.visualAttentionMask]).toEqual(new Array(slots).fill(1));
  const pairs = matchBoxes(gb, d.boxes, slots, slots, tol.box_match_iou);
  expect(pairs.length).toBeGreaterThanOrEqual(tol.min_matched);

  const c5 = d.featureDim;
  const gFeat = goldenF32(image, 'roi_features');
  const gNorm = goldenF32(image, 'normalized_boxes');
  const gObjP = goldenF32(image, 'obj_probs');
  const gAttrP = goldenF32(image, 'attr_probs');
  const gObj = goldenInt(image, 'obj_ids');
  const gAttr = goldenInt(image, 'attr_ids');
  const gObjGap = goldenF32(image, 'obj_logit_gap');
  const gAttrGap = goldenF32(image, 'attr_logit_gap');
  const pick = (v: Float32Array, width: number, side: 0 | 1) =>
    Float32Array.from(
      pairs.flatMap(([g, o]) => [
        ...v.subarray((side ? o : g) * width, ((side ? o : g) + 1) * width),
      ]),
    );
  expect(maxAbs(pick(d.boxes, 4, 1), pick(gb, 4, 0))).toBeLessThanOrEqual(tol.box_coord_max_abs_px);
  expect(maxAbs(pick(d.normalizedBoxes, 4, 1), pick(gNorm, 4, 0))).toBeLessThanOrEqual(
    tol.normalized_boxes_max_abs,
  );
  expect(relL2(pick(d.roiFeatures, c5, 1), pick(gFeat, c5, 0))).toBeLessThanOrEqual(
    tol.roi_features_rel_l2,
  );
  expect(maxAbs(pick(d.objProbs, 1, 1), pick(gObjP, 1, 0))).toBeLessThanOrEqual(tol.probs_max_abs);
  expect(maxAbs(pick(d.attrProbs, 1, 1), pick(gAttrP, 1, 0))).toBeLessThanOrEqual(
    tol.probs_max_abs,
  );
  const fragile = tol.ids_equal_unless_logit_gap_below;
  for (const [g, o] of pairs) {
    if (gObjGap[g] >= fragile) expect(d.objIds[o], `obj_ids[${g}]`).toBe(gObj[g]);
    if (gAttrGap[g] >= fragile) expect(d.attrIds[o], `attr_ids[${g}]`).toBe(gAttr[g]);
  }
}

/** Build the narrow detector, detect one image, check it, and count leaked tensors. */
export async function detectAndCheck(image: ImageName): Promise<void> {
  const f = frcnnFixture();
  const before = tf.memory().numTensors;
  const detector = GeneralizedRCNN.build(f.config, f.weights, { source: 'frcnn-narrow' });
  const afterBuild = tf.memory().numTensors;
  const d = await detector.detect(fixtureImage(image));
  expect(tf.memory().numTensors).toBe(afterBuild);
  detector.dispose();
  expect(tf.memory().numTensors).toBe(before);
  checkEndToEnd(image, d);
}
