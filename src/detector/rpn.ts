/**
 * The region proposal network (HF modeling_frcnn.py: AnchorGenerator, StandardRPNHead, RPN,
 * find_top_rpn_proposals): the head runs on the device; anchors, decoding, top-k, clipping and
 * NMS run on the host on the read-back logits and deltas (a few tens of KB).
 */
import * as tf from '@tensorflow/tfjs-core';
import { frcnnWidths, type FrcnnConfig } from './config.js';
import { applyDeltas, clipBoxes, nms, topkIndices } from './boxes.js';
import { conv2d, disposeConv, loadConv, type Conv2dParams, type Weights } from './layers.js';

/** res4's stride in input pixels (stem 4 × res3 2 × res4 2). */
export const FEATURE_STRIDE = 16;

export interface RpnHeadParams {
  conv: Conv2dParams;
  objectnessLogits: Conv2dParams;
  anchorDeltas: Conv2dParams;
}

export function loadRpnHead(weights: Weights): RpnHeadParams {
  const p = 'proposal_generator.rpn_head';
  return {
    conv: loadConv(weights, `${p}.conv`, 1),
    objectnessLogits: loadConv(weights, `${p}.objectness_logits`),
    anchorDeltas: loadConv(weights, `${p}.anchor_deltas`),
  };
}

export function disposeRpnHead(p: RpnHeadParams): void {
  for (const c of [p.conv, p.objectnessLogits, p.anchorDeltas]) disposeConv(c);
}

/**
 * StandardRPNHead: t = relu(conv3×3(res4)); logits [1, Hf, Wf, A] and deltas [1, Hf, Wf, 4A]
 * (NHWC, so they flatten to HF's (Hf, Wf, A) and (Hf, Wf, A, 4) orders as they are).
 */
export function rpnHead(res4: tf.Tensor4D, p: RpnHeadParams) {
  return tf.tidy(() => {
    const t = conv2d(res4, p.conv, true);
    return {
      logits: conv2d(t, p.objectnessLogits, false),
      deltas: conv2d(t, p.anchorDeltas, false),
    };
  });
}

/** The A cell anchors [A · 4], index size_idx · ratios + ratio_idx, float64 math then float32. */
export function cellAnchors(config: FrcnnConfig): Float32Array {
  const { sizes, aspectRatios } = config.anchorGenerator;
  const out = new Float32Array(sizes.length * aspectRatios.length * 4);
  let i = 0;
  for (const size of sizes) {
    for (const ratio of aspectRatios) {
      const w = Math.sqrt((size * size) / ratio);
      const h = ratio * w;
      out.set([-w / 2, -h / 2, w / 2, h / 2], i);
      i += 4;
    }
  }
  return out;
}

/** All anchors [(y · Wf + x) · A + a, 4], shifted by (x + offset, y + offset) · 16 in float32. */
export function rpnAnchors(config: FrcnnConfig, height: number, width: number): Float32Array {
  const cells = cellAnchors(config);
  const a = cells.length / 4;
  const offset = config.anchorGenerator.offset;
  const out = new Float32Array(height * width * a * 4);
  let i = 0;
  for (let y = 0; y < height; y++) {
    const sy = Math.fround((y + offset) * FEATURE_STRIDE);
    for (let x = 0; x < width; x++) {
      const sx = Math.fround((x + offset) * FEATURE_STRIDE);
      for (let k = 0; k < a; k++) {
        out[i++] = Math.fround(sx + cells[k * 4]);
        out[i++] = Math.fround(sy + cells[k * 4 + 1]);
        out[i++] = Math.fround(sx + cells[k * 4 + 2]);
        out[i++] = Math.fround(sy + cells[k * 4 + 3]);
      }
    }
  }
  return out;
}

export interface RpnProposals {
  /** Anchor indices by logit, descending, the first min(pre_nms_topk, anchors). */
  topkIdx: Int32Array;
  /** Positions in topkIdx (after the empty-box filter) kept by NMS, at most post_nms_topk. */
  nmsKeep: number[];
  /** [P, 4] resized-image pixels, by logit descending. */
  proposals: Float32Array;
  /** [P]. */
  proposalLogits: Float32Array;
}

/**
 * find_top_rpn_proposals for one image: top-k by logit, clip to the resized image, drop empty
 * boxes, NMS, keep the first post_nms_topk.
 */
export function selectProposals(
  logits: ArrayLike<number>,
  decoded: ArrayLike<number>,
  imageSize: [number, number],
  config: FrcnnConfig,
): RpnProposals {
  const topkIdx = topkIndices(logits, config.rpn.preNmsTopkTest);
  const n = topkIdx.length;
  const boxes = new Float32Array(n * 4);
  const scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const j = topkIdx[i];
    boxes.set([decoded[j * 4], decoded[j * 4 + 1], decoded[j * 4 + 2], decoded[j * 4 + 3]], i * 4);
    scores[i] = logits[j];
  }
  clipBoxes(boxes, imageSize[0], imageSize[1]);
  // Boxes.nonempty(threshold=min_size): width and height strictly above it.
  const minSize = config.proposalGenerator.minSize;
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    const w = boxes[i * 4 + 2] - boxes[i * 4];
    const h = boxes[i * 4 + 3] - boxes[i * 4 + 1];
    if (w > minSize && h > minSize) kept.push(i);
  }
  const filtered = new Float32Array(kept.length * 4);
  kept.forEach((i, k) => filtered.set(boxes.subarray(i * 4, i * 4 + 4), k * 4));
  const nmsKeep = nms(filtered, kept.length, config.rpn.nmsThresh, config.rpn.postNmsTopkTest);
  const proposals = new Float32Array(nmsKeep.length * 4);
  const proposalLogits = new Float32Array(nmsKeep.length);
  nmsKeep.forEach((k, i) => {
    proposals.set(filtered.subarray(k * 4, k * 4 + 4), i * 4);
    proposalLogits[i] = scores[kept[k]];
  });
  return { topkIdx, nmsKeep, proposals, proposalLogits };
}

/** The RPN on res4: head on the device, then anchors/decode/selection on the host. */
export async function rpn(
  res4: tf.Tensor4D,
  p: RpnHeadParams,
  imageSize: [number, number],
  config: FrcnnConfig,
): Promise<RpnProposals> {
  const [, hf, wf] = res4.shape;
  const head = rpnHead(res4, p);
  let logits: Float32Array;
  let deltas: Float32Array;
  try {
    [logits, deltas] = (await Promise.all([head.logits.data(), head.deltas.data()])) as [
      Float32Array,
      Float32Array,
    ];
  } finally {
    tf.dispose([head.logits, head.deltas]);
  }
  const anchors = rpnAnchors(config, hf, wf);
  const count = hf * wf * frcnnWidths(config).anchorsPerCell;
  const decoded = applyDeltas(deltas, anchors, config.rpn.bboxRegWeights, count);
  return selectProposals(logits, decoded, imageSize, config);
}
