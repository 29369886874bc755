/**
 * End-to-end comparison of detector outputs with the frcnn-narrow goldens, as its README's
 * "How to compare" B says: proposals and the final 36 matched one-to-one by IoU > 0.99 (greedy,
 * golden order), then per matched pair: box coordinates, roi_features, probabilities,
 * normalized boxes, and ids equal unless the golden logit gap is below 1e-3.
 */
import { matchBoxes } from '../detector/e2e_checks.js';
import { FRCNN_DIR, goldenF32, type ImageName } from '../detector/fixture.js';

export const NARROW = FRCNN_DIR;

/** Greedy one-to-one match of golden boxes to ours by IoU > 0.99: [golden, ours] pairs. */
const match = (gold: ArrayLike<number>, ours: ArrayLike<number>) =>
  matchBoxes(gold, ours, gold.length / 4, ours.length / 4, 0.99);

export interface FinalDetectionsLike {
  boxes: ArrayLike<number>;
  normalizedBoxes: ArrayLike<number>;
  objIds: ArrayLike<number>;
  objProbs: ArrayLike<number>;
  attrIds: ArrayLike<number>;
  attrProbs: ArrayLike<number>;
  roiFeatures: ArrayLike<number>;
  featureDim: number;
  proposals?: ArrayLike<number>;
}

export interface E2eReport {
  proposalsMatched?: number;
  matched: number;
  boxMaxAbs: number;
  roiFeaturesRelL2: number;
  probsMaxAbs: number;
  normalizedMaxAbs: number;
  /** Matched rows whose object / attribute id differs where the golden gap is ≥ 1e-3. */
  idMismatches: number;
}

/** Compare one image's final detections with its goldens (README B). */
export function compareEndToEnd(image: string, got: FinalDetectionsLike): E2eReport {
  const g = (n: string) => goldenF32(image as ImageName, n);
  const [gBoxes, gNorm, gFeat] = [g('boxes'), g('normalized_boxes'), g('roi_features')];
  const [gObj, gAttr, gObjP, gAttrP] = [
    g('obj_ids'),
    g('attr_ids'),
    g('obj_probs'),
    g('attr_probs'),
  ];
  const [objGap, attrGap] = [g('obj_logit_gap'), g('attr_logit_gap')];
  const d = got.featureDim;
  const pairs = match(gBoxes, got.boxes);
  let boxMaxAbs = 0;
  let probsMaxAbs = 0;
  let normalizedMaxAbs = 0;
  let idMismatches = 0;
  let num = 0;
  let den = 0;
  for (const [i, j] of pairs) {
    for (let k = 0; k < 4; k++) {
      boxMaxAbs = Math.max(boxMaxAbs, Math.abs(gBoxes[i * 4 + k] - got.boxes[j * 4 + k]));
      normalizedMaxAbs = Math.max(
        normalizedMaxAbs,
        Math.abs(gNorm[i * 4 + k] - got.normalizedBoxes[j * 4 + k]),
      );
    }
    for (let k = 0; k < d; k++) {
      const r = gFeat[i * d + k];
      num += (r - got.roiFeatures[j * d + k]) ** 2;
      den += r * r;
    }
    probsMaxAbs = Math.max(
      probsMaxAbs,
      Math.abs(gObjP[i] - got.objProbs[j]),
      Math.abs(gAttrP[i] - got.attrProbs[j]),
    );
    if (gObj[i] !== got.objIds[j] && objGap[i] >= 1e-3) idMismatches++;
    if (gAttr[i] !== got.attrIds[j] && attrGap[i] >= 1e-3) idMismatches++;
  }
  const report: E2eReport = {
    matched: pairs.length,
    boxMaxAbs,
    roiFeaturesRelL2: Math.sqrt(num / den),
    probsMaxAbs,
    normalizedMaxAbs,
    idMismatches,
  };
  if (got.proposals) report.proposalsMatched = match(g('proposals'), got.proposals).length;
  return report;
}

/** README B's limits. */
export function expectWithinEndToEnd(
  normalizedLimit: number,
  r: E2eReport,
  expect: (
    v: unknown,
    m?: string,
  ) => { toBe(x: unknown): void; toBeLessThanOrEqual(x: number): void },
  label: string,
): void {
  if (r.proposalsMatched !== undefined) expect(r.proposalsMatched, `${label} proposals`).toBe(300);
  expect(r.matched, `${label} matched`).toBe(36);
  expect(r.boxMaxAbs, `${label} boxes`).toBeLessThanOrEqual(0.01);
  expect(r.roiFeaturesRelL2, `${label} roi_features`).toBeLessThanOrEqual(1e-4);
  expect(r.probsMaxAbs, `${label} probs`).toBeLessThanOrEqual(1e-4);
  // README B: 1e-5 (cases.json end_to_end.normalized_boxes_max_abs). Measured 1.5e-6 (img_b,
  // wasm and cpu) since the preprocessing follows PyTorch's float32 bilinear weights.
  expect(r.normalizedMaxAbs, `${label} normalized_boxes`).toBeLessThanOrEqual(normalizedLimit);
  expect(r.idMismatches, `${label} ids`).toBe(0);
}
