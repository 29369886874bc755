/**
 * The end-to-end comparison of frcnn-narrow (README "How to compare", B), free of Node and of
 * vitest so that the headless-Chromium page runs it too: proposals and the final detections
 * matched one-to-one by IoU, then each matched pair within cases.json's end_to_end tolerances.
 * Returns the failures (empty when everything holds).
 */
import type { FrcnnDetections } from '../../src/detector/index.js';
import { toFloat32, toInt32, type RawTensor } from '../../src/codec/raw_tensor.js';
import { maxAbs, relL2 } from '../helpers/compare.js';

export interface EndToEndTolerance {
  proposal_match_iou: number;
  box_match_iou: number;
  min_matched: number;
  box_coord_max_abs_px: number;
  roi_features_rel_l2: number;
  probs_max_abs: number;
  normalized_boxes_max_abs: number;
  ids_equal_unless_logit_gap_below: number;
}

/** IoU of box `i` of `a` and box `j` of `b` (x1, y1, x2, y2 rows); 0 for empty boxes. */
export function iou(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const w = Math.max(0, Math.min(a[i * 4 + 2], b[j * 4 + 2]) - Math.max(a[i * 4], b[j * 4]));
  const h = Math.max(
    0,
    Math.min(a[i * 4 + 3], b[j * 4 + 3]) - Math.max(a[i * 4 + 1], b[j * 4 + 1]),
  );
  const inter = w * h;
  const area = (v: ArrayLike<number>, k: number) =>
    (v[k * 4 + 2] - v[k * 4]) * (v[k * 4 + 3] - v[k * 4 + 1]);
  const union = area(a, i) + area(b, j) - inter;
  return union > 0 ? inter / union : 0;
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

/** Every end-to-end check of one image's detections; `golden(name)` reads `<image>/<name>`. */
export function endToEndFailures(
  d: FrcnnDetections,
  golden: (name: string) => RawTensor,
  tol: EndToEndTolerance,
): string[] {
  const failures: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) failures.push(what);
  };
  const f32 = (name: string) => toFloat32(golden(name));
  const i32 = (name: string) => toInt32(golden(name));
  check(d.imageSize.join() === i32('image_size').join(), `image_size ${d.imageSize}`);
  check(d.rawSize.join() === i32('raw_size').join(), `raw_size ${d.rawSize}`);
  check(d.scalesYx.join() === f32('scales_yx').join(), `scales_yx ${d.scalesYx}`);

  const gp = f32('proposals');
  const np = gp.length / 4;
  check(d.proposals.length === gp.length, `${d.proposals.length / 4} proposals, not ${np}`);
  const proposalPairs = matchBoxes(
    gp,
    d.proposals,
    np,
    d.proposals.length / 4,
    tol.proposal_match_iou,
  );
  check(proposalPairs.length === np, `${proposalPairs.length}/${np} proposals matched`);

  const gb = f32('boxes');
  const slots = gb.length / 4;
  check(d.numDetections === slots, `numDetections ${d.numDetections}`);
  check(
    d.visualAttentionMask.every((v) => v === 1),
    `visualAttentionMask ${[...d.visualAttentionMask]}`,
  );
  const pairs = matchBoxes(gb, d.boxes, slots, d.boxes.length / 4, tol.box_match_iou);
  check(pairs.length >= tol.min_matched, `${pairs.length}/${slots} detections matched`);

  const pick = (v: Float32Array, width: number, ours: boolean) =>
    Float32Array.from(
      pairs.flatMap(([g, o]) => {
        const k = ours ? o : g;
        return [...v.subarray(k * width, (k + 1) * width)];
      }),
    );
  const c5 = d.featureDim;
  const limit = (name: string, got: number, bound: number) =>
    check(got <= bound, `${name}: ${got.toExponential(2)} > ${bound}`);
  limit(
    'boxes max_abs px',
    maxAbs(pick(d.boxes, 4, true), pick(gb, 4, false)),
    tol.box_coord_max_abs_px,
  );
  limit(
    'normalized_boxes max_abs',
    maxAbs(pick(d.normalizedBoxes, 4, true), pick(f32('normalized_boxes'), 4, false)),
    tol.normalized_boxes_max_abs,
  );
  limit(
    'roi_features rel_l2',
    relL2(pick(d.roiFeatures, c5, true), pick(f32('roi_features'), c5, false)),
    tol.roi_features_rel_l2,
  );
  limit(
    'obj_probs max_abs',
    maxAbs(pick(d.objProbs, 1, true), pick(f32('obj_probs'), 1, false)),
    tol.probs_max_abs,
  );
  limit(
    'attr_probs max_abs',
    maxAbs(pick(d.attrProbs, 1, true), pick(f32('attr_probs'), 1, false)),
    tol.probs_max_abs,
  );
  const objIds = i32('obj_ids');
  const attrIds = i32('attr_ids');
  const objGap = f32('obj_logit_gap');
  const attrGap = f32('attr_logit_gap');
  const fragile = tol.ids_equal_unless_logit_gap_below;
  for (const [g, o] of pairs) {
    if (objGap[g] >= fragile && d.objIds[o] !== objIds[g]) {
      failures.push(`obj_ids[${g}]: ${d.objIds[o]} instead of ${objIds[g]}`);
    }
    if (attrGap[g] >= fragile && d.attrIds[o] !== attrIds[g]) {
      failures.push(`attr_ids[${g}]: ${d.attrIds[o]} instead of ${attrIds[g]}`);
    }
  }
  return failures;
}
