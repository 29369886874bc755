/**
 * frcnn-narrow stage tests, each stage fed the golden input of that stage (README "How to
 * compare", table A), with cases.json's stage-isolated tolerances. Run per backend by
 * stages.test.ts (cpu, wasm) and stages_webgpu.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyDeltas,
  boxFeatures,
  boxPredictor,
  clipBoxes,
  disposeRoiHeads,
  disposeRpnHead,
  finalDetections,
  loadRoiHeads,
  loadRpnHead,
  nms,
  proposalPredictions,
  res5Features,
  roiPoolRes4,
  rpnAnchors,
  rpnHead,
  selectDetections,
  selectProposals,
  topkIndices,
  type RoiHeadsParams,
  type RpnHeadParams,
} from '../../src/detector/index.js';
import {
  IMAGES,
  frcnnFixture,
  goldenF32,
  goldenInt,
  goldenNhwc,
  goldenRaw,
  maxAbs,
  relL2,
  type ImageName,
} from './fixture.js';

const N_POOLED = 16;
const N_DENSE = 8;

function tensor4(v: { values: Float32Array; shape: number[] }): tf.Tensor4D {
  return tf.tensor4d(v.values, v.shape as [number, number, number, number]);
}

function sizes(image: ImageName) {
  return [...goldenInt(image, 'image_size')] as [number, number];
}

/** Rows [0, n) of a row-major [R, width] array. */
function rows(v: Float32Array, n: number, width: number): Float32Array {
  return v.subarray(0, n * width);
}

export interface StageSuiteOptions {
  images?: readonly ImageName[];
  /** Also run the host-only stages (anchors, decode, top-k, NMS): backend-independent. */
  hostStages?: boolean;
  /** Proposals in the chunked RoIPool + res5 test, and the chunk size. */
  chunked?: { rows: number; chunk: number };
}

export function stageSuite(
  backend: string,
  ready: () => boolean,
  options: StageSuiteOptions = {},
): void {
  const { images = IMAGES, hostStages = true, chunked = { rows: 40, chunk: 16 } } = options;
  let rpnParams: RpnHeadParams;
  let roiParams: RoiHeadsParams;
  beforeAll(() => {
    if (!ready()) return;
    const f = frcnnFixture();
    rpnParams = loadRpnHead(f.weights);
    roiParams = loadRoiHeads(f.config, f.weights);
  });
  afterAll(() => {
    if (!ready()) return;
    disposeRpnHead(rpnParams);
    disposeRoiHeads(roiParams);
  });

  describe.each(images)(`frcnn-narrow stages on ${backend}: %s`, (image) => {
    it('golden res4 → rpn_objectness_logits, rpn_anchor_deltas (rel_l2 1e-5)', async ({ skip }) => {
      if (!ready()) skip();
      const before = tf.memory().numTensors;
      const res4 = tensor4(goldenNhwc(image, 'res4'));
      const head = rpnHead(res4, rpnParams);
      expect(
        relL2(await head.logits.data(), goldenNhwc(image, 'rpn_objectness_logits').values),
      ).toBeLessThanOrEqual(1e-5);
      expect(
        relL2(await head.deltas.data(), goldenNhwc(image, 'rpn_anchor_deltas').values),
      ).toBeLessThanOrEqual(1e-5);
      tf.dispose([res4, head.logits, head.deltas]);
      expect(tf.memory().numTensors).toBe(before);
    });

    // Host-only stages: the same code on every backend, so run once (cpu/wasm suite).
    if (hostStages) {
      it('config → anchors (exact); golden deltas + anchors → rpn_decoded (1e-3 px)', ({
        skip,
      }) => {
        if (!ready()) skip();
        const { config } = frcnnFixture();
        const [, , hf, wf] = goldenRaw(image, 'res4').shape;
        const anchors = rpnAnchors(config, hf, wf);
        expect(anchors).toEqual(goldenF32(image, 'anchors'));
        const deltas = goldenNhwc(image, 'rpn_anchor_deltas').values;
        const decoded = applyDeltas(deltas, anchors, config.rpn.bboxRegWeights, anchors.length / 4);
        expect(maxAbs(decoded, goldenF32(image, 'rpn_decoded'))).toBeLessThanOrEqual(1e-3);
      });

      it('golden logits → rpn_topk_idx; golden decoded → rpn_nms_keep, proposals (exact)', ({
        skip,
      }) => {
        if (!ready()) skip();
        const { config } = frcnnFixture();
        const logits = goldenNhwc(image, 'rpn_objectness_logits').values;
        const decoded = goldenF32(image, 'rpn_decoded');
        const ref = goldenInt(image, 'rpn_topk_idx');
        const idx = topkIndices(logits, config.rpn.preNmsTopkTest);
        // Exact up to exactly tied logits: the same logit sequence and the same index set.
        expect(Array.from(idx, (i) => logits[i])).toEqual(Array.from(ref, (i) => logits[i]));
        expect([...idx].sort((a, b) => a - b)).toEqual([...ref].sort((a, b) => a - b));
        // Every kept position of the full NMS (torchvision runs it to the end).
        const boxes = new Float32Array(idx.length * 4);
        idx.forEach((j, i) => boxes.set(decoded.subarray(j * 4, j * 4 + 4), i * 4));
        clipBoxes(boxes, ...sizes(image));
        const keep = nms(boxes, idx.length, config.rpn.nmsThresh);
        expect(keep).toEqual([...goldenInt(image, 'rpn_nms_keep')]);
        const sel = selectProposals(logits, decoded, sizes(image), config);
        expect(sel.proposals).toEqual(goldenF32(image, 'proposals'));
        expect(sel.proposalLogits).toEqual(goldenF32(image, 'proposal_logits'));
      });
    }

    it('golden res4 + proposals[:16] → roi_pooled (exact)', async ({ skip }) => {
      if (!ready()) skip();
      const { config } = frcnnFixture();
      const before = tf.memory().numTensors;
      const res4 = tensor4(goldenNhwc(image, 'res4'));
      const boxes = tf.tensor2d(rows(goldenF32(image, 'proposals'), N_POOLED, 4), [N_POOLED, 4]);
      const pooled = roiPoolRes4(res4, boxes, config);
      const ref = goldenNhwc(image, 'roi_pooled');
      expect(pooled.shape).toEqual(ref.shape);
      expect(await pooled.data()).toEqual(ref.values);
      tf.dispose([res4, boxes, pooled]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('golden roi_pooled → box_features[:16] (rel_l2 1e-5)', async ({ skip }) => {
      if (!ready()) skip();
      const before = tf.memory().numTensors;
      const pooled = tensor4(goldenNhwc(image, 'roi_pooled'));
      const features = res5Features(pooled, roiParams);
      const c5 = features.shape[1];
      const ref = rows(goldenF32(image, 'box_features'), N_POOLED, c5);
      expect(relL2(await features.data(), ref)).toBeLessThanOrEqual(1e-5);
      tf.dispose([pooled, features]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('golden res4 + proposals → box_features in small chunks (end of RoIPool + res5)', async ({
      skip,
    }) => {
      if (!ready()) skip();
      const { config } = frcnnFixture();
      const before = tf.memory().numTensors;
      const res4 = tensor4(goldenNhwc(image, 'res4'));
      const proposals = rows(goldenF32(image, 'proposals'), chunked.rows, 4);
      // A few regions at a time, in chunks of one size, the last padded (40 at ≤ 16: 14, 14,
      // 12 + 2 padding): chunk boundaries and padding must not change a row.
      const features = boxFeatures(res4, proposals, roiParams, config, chunked.chunk);
      expect(features.shape[0]).toBe(chunked.rows);
      const ref = rows(goldenF32(image, 'box_features'), chunked.rows, features.shape[1]);
      // Chained through RoIPool and res5 from golden res4: float noise of res5 only.
      expect(relL2(await features.data(), ref)).toBeLessThanOrEqual(1e-5);
      tf.dispose([res4, features]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('golden box_features → obj_logits, attr_logits, bbox_deltas[:8] (rel_l2 1e-5)', async ({
      skip,
    }) => {
      if (!ready()) skip();
      const before = tf.memory().numTensors;
      const all = goldenF32(image, 'box_features');
      const c5 = goldenRaw(image, 'box_features').shape[1];
      const features = tf.tensor2d(rows(all, N_DENSE, c5), [N_DENSE, c5]);
      const pred = boxPredictor(features, roiParams.boxPredictor);
      for (const [name, t] of [
        ['obj_logits', pred.objLogits],
        ['attr_logits', pred.attrLogits!],
        ['bbox_deltas', pred.bboxDeltas],
      ] as const) {
        expect(relL2(await t.data(), goldenF32(image, name)), name).toBeLessThanOrEqual(1e-5);
      }
      tf.dispose([features, pred.objLogits, pred.bboxDeltas, pred.attrLogits!]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('golden box_features + proposals → classes, scores, boxes, the 36 (selection)', async ({
      skip,
    }) => {
      if (!ready()) skip();
      const { config } = frcnnFixture();
      const before = tf.memory().numTensors;
      const raw = goldenRaw(image, 'box_features');
      const features = tf.tensor2d(goldenF32(image, 'box_features'), raw.shape as [number, number]);
      const pred = boxPredictor(features, roiParams.boxPredictor);
      const per = await proposalPredictions(pred, config);
      tf.dispose([features, pred.objLogits, pred.bboxDeltas, pred.attrLogits!]);
      expect(tf.memory().numTensors).toBe(before);

      expect(per.classes).toEqual(goldenInt(image, 'det_max_classes'));
      expect(maxAbs(per.scores, goldenF32(image, 'det_max_scores'))).toBeLessThanOrEqual(1e-6);
      expect(per.attrIds).toEqual(goldenInt(image, 'attr_max_ids'));
      expect(maxAbs(per.attrProbs, goldenF32(image, 'attr_max_probs'))).toBeLessThanOrEqual(1e-6);

      const proposals = goldenF32(image, 'proposals');
      const sel = selectDetections(per, proposals, sizes(image), config);
      expect(maxAbs(sel.maxBoxes, goldenF32(image, 'det_max_boxes'))).toBeLessThanOrEqual(1e-3);
      expect(sel.nmsKeep).toEqual([...goldenInt(image, 'det_nms_keep')]);
      expect(sel.keep).toEqual([...goldenInt(image, 'det_keep')]);
      expect(sel.threshold).toBe(goldenF32(image, 'det_nms_threshold')[0]);

      const scales = [...goldenF32(image, 'scales_yx')] as [number, number];
      const fin = finalDetections(per, sel, sizes(image), scales, config.maxDetections);
      expect(fin.objIds).toEqual(goldenInt(image, 'obj_ids'));
      expect(fin.attrIds).toEqual(goldenInt(image, 'attr_ids'));
      expect(maxAbs(fin.objProbs, goldenF32(image, 'obj_probs'))).toBeLessThanOrEqual(1e-6);
      expect(maxAbs(fin.attrProbs, goldenF32(image, 'attr_probs'))).toBeLessThanOrEqual(1e-6);
      expect(maxAbs(fin.boxes, goldenF32(image, 'boxes'))).toBeLessThanOrEqual(1e-3);
      expect(maxAbs(fin.normalizedBoxes, goldenF32(image, 'normalized_boxes'))).toBeLessThanOrEqual(
        1e-5,
      );
      expect([...fin.visualAttentionMask]).toEqual(new Array(36).fill(1));
    });
  });
}
