/**
 * ROIOutputs (HF modeling_frcnn.py `ROIOutputs` / `do_nms`): per proposal the best non-background
 * class, its probability and its class-specific box; one class-agnostic NMS over the thresholds
 * of `nms_thresh_test` until `min_detections` survive; the first `max_detections`, in raw-image
 * pixels and normalized for LXMERT, zero-padded with a mask when fewer survive.
 */
import * as tf from '@tensorflow/tfjs-core';
import { applyDeltas, clipBoxes, nms } from './boxes.js';
import type { FrcnnConfig } from './config.js';
import type { PredictorOutputs } from './roi_heads.js';

/** Per proposal: the argmax/max of the softmaxes without their last (background) column. */
export interface ProposalPredictions {
  /** [R] argmax of softmax(obj_logits)[:, :numClasses]. */
  classes: Int32Array;
  /** [R] that probability. */
  scores: Float32Array;
  /** [R, 4] bbox_pred columns 4c … 4c+3 of that class. */
  classDeltas: Float32Array;
  /** [R] argmax / max of softmax(attr_logits)[:, :numAttrs] (zeros without the head). */
  attrIds: Int32Array;
  attrProbs: Float32Array;
}

/** Softmax/argmax/gather on the device, then one read-back of a few values per proposal. */
export async function proposalPredictions(
  pred: PredictorOutputs,
  config: FrcnnConfig,
): Promise<ProposalPredictions> {
  const numClasses = config.roiHeads.numClasses;
  const rows = pred.objLogits.shape[0];
  const out = tf.tidy(() => {
    const probs = tf.slice(tf.softmax(pred.objLogits), [0, 0], [-1, numClasses]);
    const classes = tf.argMax(probs, 1);
    const scores = tf.max(probs, 1);
    const flat = tf.reshape(pred.bboxDeltas, [rows * numClasses, 4]);
    const idx = tf.add(
      tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(numClasses, 'int32')),
      classes,
    );
    const classDeltas = tf.gather(flat, idx);
    const list = [classes, scores, classDeltas];
    if (pred.attrLogits) {
      const na = config.roiBoxHead.numAttrs;
      // Unlike the classes, the "no attribute" column is dropped before the softmax.
      const attr = tf.softmax(tf.slice(pred.attrLogits, [0, 0], [-1, na]));
      list.push(tf.argMax(attr, 1), tf.max(attr, 1));
    }
    return list;
  });
  try {
    const v = await Promise.all(out.map((t) => t.data()));
    return {
      classes: v[0] as Int32Array,
      scores: v[1] as Float32Array,
      classDeltas: v[2] as Float32Array,
      attrIds: (v[3] as Int32Array) ?? new Int32Array(rows),
      attrProbs: (v[4] as Float32Array) ?? new Float32Array(rows),
    };
  } finally {
    tf.dispose(out);
  }
}

export interface DetectionSelection {
  /** [R, 4] the class-specific boxes, clipped to the resized image (det_max_boxes). */
  maxBoxes: Float32Array;
  /** All proposals kept by the NMS that was used, by score descending (det_nms_keep). */
  nmsKeep: number[];
  /** Its first max_detections (det_keep). */
  keep: number[];
  /** The nms_thresh_test value used (the first giving min_detections, else the last). */
  threshold: number;
}

/** Decode, clip and select, on the host (HF's do_nms with a single class-agnostic NMS). */
export function selectDetections(
  pred: Pick<ProposalPredictions, 'scores' | 'classDeltas'>,
  proposals: Float32Array,
  imageSize: [number, number],
  config: FrcnnConfig,
  maxDetections = config.maxDetections,
): DetectionSelection {
  const n = proposals.length / 4;
  const maxBoxes = clipBoxes(
    applyDeltas(pred.classDeltas, proposals, config.roiBoxHead.bboxRegWeights, n),
    imageSize[0],
    imageSize[1],
  );
  // torchvision's nms visits boxes by score, descending (ties here: lower index first).
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => pred.scores[b] - pred.scores[a] || a - b,
  );
  const sorted = new Float32Array(n * 4);
  order.forEach((i, k) => sorted.set(maxBoxes.subarray(i * 4, i * 4 + 4), k * 4));
  const thresholds = config.roiHeads.nmsThreshTest;
  let nmsKeep: number[] = [];
  let threshold = thresholds[thresholds.length - 1];
  for (const t of thresholds) {
    nmsKeep = nms(sorted, n, t).map((k) => order[k]);
    threshold = t;
    if (nmsKeep.length >= config.minDetections) break;
  }
  return { maxBoxes, nmsKeep, keep: nmsKeep.slice(0, maxDetections), threshold };
}

/** The final per-detection arrays, `slots` long, zero beyond `keep.length`. */
export interface FinalDetections {
  /** [slots · 4] raw-image pixels x1, y1, x2, y2 (slots = maxDetections, 36 by default). */
  boxes: Float32Array;
  /** [slots · 4] in [0, 1]: LXMERT's visual_pos. */
  normalizedBoxes: Float32Array;
  objIds: Int32Array;
  objProbs: Float32Array;
  attrIds: Int32Array;
  attrProbs: Float32Array;
  /** [slots] 1 for real detections, 0 for padding: LXMERT's visual_attention_mask. */
  visualAttentionMask: Float32Array;
}

/**
 * Boxes to raw-image pixels (× scales_yx) and normalized by the raw size as HF computes it
 * (image_size · scales_yx in float32); ids and probabilities of the kept proposals.
 */
export function finalDetections(
  pred: ProposalPredictions,
  sel: DetectionSelection,
  imageSize: [number, number],
  scalesYx: [number, number],
  slots: number,
): FinalDetections {
  const f = Math.fround;
  const [sy, sx] = scalesYx;
  const rawH = f(imageSize[0] * sy);
  const rawW = f(imageSize[1] * sx);
  const out: FinalDetections = {
    boxes: new Float32Array(slots * 4),
    normalizedBoxes: new Float32Array(slots * 4),
    objIds: new Int32Array(slots),
    objProbs: new Float32Array(slots),
    attrIds: new Int32Array(slots),
    attrProbs: new Float32Array(slots),
    visualAttentionMask: new Float32Array(slots),
  };
  sel.keep.forEach((p, i) => {
    for (let k = 0; k < 4; k++) {
      const box = f(sel.maxBoxes[p * 4 + k] * (k % 2 === 0 ? sx : sy));
      out.boxes[i * 4 + k] = box;
      out.normalizedBoxes[i * 4 + k] = f(box / (k % 2 === 0 ? rawW : rawH));
    }
    out.objIds[i] = pred.classes[p];
    out.objProbs[i] = pred.scores[p];
    out.attrIds[i] = pred.attrIds[p];
    out.attrProbs[i] = pred.attrProbs[p];
    out.visualAttentionMask[i] = 1;
  });
  return out;
}
