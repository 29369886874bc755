/**
 * Res5ROIHeads (HF modeling_frcnn.py): RoIPool 14×14 of res4 at the proposals → res5 (three
 * bottlenecks, stride 1, dilation 2) → mean over 14×14 (the region feature, C5 wide) →
 * FastRCNNOutputLayers: class logits, class-specific box deltas and the attribute head.
 * Everything stays on the device; the regions go through res5 in chunks sized from the
 * device's buffer limits.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MAX_BINDING_BYTES_FLAG } from '../../kernels/flags.js';
import { roiPool } from '../../kernels/ops.js';
import { registerLxmertKernels } from '../../kernels/register.js';
import { disposeBlocks, loadStage, runBlocks, type BottleneckBlockParams } from './backbone.js';
import { frcnnWidths, type FrcnnConfig } from './config.js';
import { floats, linear, loadLinear, type LinearParams, type Weights } from './layers.js';
import { FEATURE_STRIDE } from './rpn.js';

export interface BoxPredictorParams {
  clsScore: LinearParams;
  bboxPred: LinearParams;
  /** The attribute head (roi_box_head.attr). */
  attr: { clsEmbedding: tf.Tensor2D; fcAttr: LinearParams; attrScore: LinearParams } | null;
}

export interface RoiHeadsParams {
  res5: BottleneckBlockParams[];
  boxPredictor: BoxPredictorParams;
}

export function loadRoiHeads(config: FrcnnConfig, weights: Weights): RoiHeadsParams {
  const p = 'roi_heads.box_predictor';
  const w = weights.get(`${p}.cls_embedding.weight`);
  return {
    res5: loadStage(config, weights, 3),
    boxPredictor: {
      clsScore: loadLinear(weights, `${p}.cls_score`),
      bboxPred: loadLinear(weights, `${p}.bbox_pred`),
      attr:
        config.roiBoxHead.attr && w
          ? {
              clsEmbedding: tf.tensor2d(floats(weights, `${p}.cls_embedding.weight`), [
                w.shape[0],
                w.shape[1],
              ]),
              fcAttr: loadLinear(weights, `${p}.fc_attr`),
              attrScore: loadLinear(weights, `${p}.attr_score`),
            }
          : null,
    },
  };
}

export function disposeRoiHeads(p: RoiHeadsParams): void {
  disposeBlocks(p.res5);
  const b = p.boxPredictor;
  const linears = [b.clsScore, b.bboxPred, ...(b.attr ? [b.attr.fcAttr, b.attr.attrScore] : [])];
  tf.dispose([
    ...linears.flatMap((l) => [l.kernel, l.bias]),
    ...(b.attr ? [b.attr.clsEmbedding] : []),
  ]);
}

/**
 * Bytes the largest tensor of one res5 chunk may take, on every backend: it bounds the region
 * stage's memory (several such tensors are live in a bottleneck, and on webgpu the buffer pool
 * keeps one set per distinct chunk shape), not only the device's binding limit, which on a GPU
 * with 4 GiB bindings would put all 300 full-size regions in one chunk (≈ 2 GB of res5
 * activations). 128 MiB: 37 full-size regions, 300 in 9 even chunks (BENCHMARKS.md, "Peak GPU
 * memory"); also WebGPU's default maxStorageBufferBindingSize.
 */
export const REGION_CHUNK_BYTES = 128 * 2 ** 20;

/**
 * Regions per res5 chunk: the largest tensor a chunk makes (a conv's output, or the 3×3 conv's
 * [rows · P², 9 · mid] operand when tf.js materializes it with im2col) must stay within
 * REGION_CHUNK_BYTES and within one storage binding (webgpu: maxStorageBufferBindingSize and
 * maxBufferSize; LXMERT_MAX_BINDING_BYTES when set).
 */
export function regionChunkRows(config: FrcnnConfig): number {
  const w = frcnnWidths(config);
  const cells = config.roiBoxHead.poolerResolution ** 2;
  const perRow = cells * Math.max(w.c5, 9 * w.bottleneck[3], w.c4) * 4;
  registerLxmertKernels(); // registers the flag read below
  let limit = REGION_CHUNK_BYTES;
  const forced = tf.env().getNumber(MAX_BINDING_BYTES_FLAG);
  if (forced > 0) limit = Math.min(limit, forced);
  else if (tf.getBackend() === 'webgpu') {
    const device = (tf.backend() as { device?: GPUDevice }).device;
    if (device) {
      const { maxStorageBufferBindingSize, maxBufferSize } = device.limits;
      limit = Math.min(limit, maxStorageBufferBindingSize, maxBufferSize);
    }
  }
  return Math.max(1, Math.floor(limit / perRow));
}

/**
 * Rows per chunk for `n` regions, at most `maxRows`: the fewest chunks, all of one size (300
 * regions at 37 rows → 9 chunks of 34, the last padded with 6 repeated boxes). One shape lets
 * tf.js's webgpu buffer pool, which reuses buffers of exactly the same size only, serve every
 * chunk from the first one's buffers.
 */
export function evenChunkRows(n: number, maxRows: number): number {
  return Math.ceil(n / Math.ceil(n / Math.max(1, maxRows)));
}

/** RoIPool of res4 [1, Hf, Wf, C4] at boxes [R, 4] (resized-image pixels) → [R, P, P, C4]. */
export function roiPoolRes4(res4: tf.Tensor4D, boxes: tf.Tensor2D, config: FrcnnConfig) {
  return roiPool(res4, boxes, config.roiBoxHead.poolerResolution, 1 / FEATURE_STRIDE);
}

/** res5 on pooled regions [R, P, P, C4] → mean over P×P → box_features [R, C5]. */
export function res5Features(pooled: tf.Tensor4D, p: RoiHeadsParams): tf.Tensor2D {
  return tf.tidy(() => tf.mean(runBlocks(pooled, p.res5), [1, 2]) as tf.Tensor2D);
}

/**
 * box_features [R, C5] of every proposal: RoIPool + res5 + mean, in chunks of one size of at
 * most `chunkRows` regions (default regionChunkRows; see evenChunkRows). No read-back. `onStep`
 * is told when each chunk's RoIPool and res5 begin (for per-step counters).
 */
export function boxFeatures(
  res4: tf.Tensor4D,
  proposals: Float32Array,
  p: RoiHeadsParams,
  config: FrcnnConfig,
  chunkRows = regionChunkRows(config),
  onStep?: (step: 'roiPool' | 'res5') => void,
): tf.Tensor2D {
  const n = proposals.length / 4;
  const c5 = frcnnWidths(config).c5;
  if (n === 0) return tf.zeros([0, c5]);
  const rows = evenChunkRows(n, chunkRows);
  const parts: tf.Tensor2D[] = [];
  for (let r0 = 0; r0 < n; r0 += rows) {
    const r1 = Math.min(n, r0 + rows);
    const boxes = new Float32Array(rows * 4);
    boxes.set(proposals.subarray(r0 * 4, r1 * 4));
    // Padding rows repeat the last box; their features are sliced off.
    for (let r = r1 - r0; r < rows; r++) boxes.copyWithin(r * 4, (r1 - r0 - 1) * 4, (r1 - r0) * 4);
    parts.push(
      tf.tidy(() => {
        onStep?.('roiPool');
        const pooled = roiPoolRes4(res4, tf.tensor2d(boxes, [rows, 4]), config); // [rows, P, P, C4]
        onStep?.('res5');
        const f = res5Features(pooled, p); // [rows, C5]
        return r1 - r0 < rows ? tf.slice(f, [0, 0], [r1 - r0, -1]) : f;
      }),
    );
  }
  if (parts.length === 1) return parts[0];
  const all = tf.concat(parts, 0);
  tf.dispose(parts);
  return all;
}

export interface PredictorOutputs {
  /** [R, numClasses + 1], index numClasses = background. */
  objLogits: tf.Tensor2D;
  /** [R, numClasses · 4]. */
  bboxDeltas: tf.Tensor2D;
  /** [R, numAttrs + 1], index numAttrs = "no attribute"; null without the attribute head. */
  attrLogits: tf.Tensor2D | null;
}

/**
 * FastRCNNOutputLayers: cls_score, bbox_pred, and attr_score(relu(fc_attr([f,
 * cls_embedding[argmax over all logits, background included]]))).
 */
export function boxPredictor(features: tf.Tensor2D, p: BoxPredictorParams): PredictorOutputs {
  const [objLogits, bboxDeltas, attrLogits] = tf.tidy(() => {
    const objLogits = linear(features, p.clsScore);
    const bboxDeltas = linear(features, p.bboxPred);
    if (!p.attr) return [objLogits, bboxDeltas];
    const top = tf.argMax(objLogits, 1) as tf.Tensor1D;
    const embedding = tf.gather(p.attr.clsEmbedding, top) as tf.Tensor2D;
    const h = tf.relu(linear(tf.concat([features, embedding], 1), p.attr.fcAttr));
    return [objLogits, bboxDeltas, linear(h, p.attr.attrScore)];
  });
  return { objLogits, bboxDeltas, attrLogits: attrLogits ?? null };
}
