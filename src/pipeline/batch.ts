/** Host-side batching of tokenized questions and their images, and top-k selection. */
import type { LxmertConfig } from '../config.js';
import type { VisualInput } from '../features/validate.js';
import type { BatchEncoding } from '../tokenizer/types.js';

/** One forward's inputs as host arrays (rows with the same number of boxes). */
export interface VqaBatch {
  /** Question indices of the rows, in row order. */
  rows: number[];
  /** Image index of each row. */
  imageIndex: number[];
  batchSize: number;
  seqLength: number;
  numBoxes: number;
  /** [batchSize * seqLength] */
  inputIds: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
  /** [batchSize * numBoxes * visual_feat_dim] */
  visualFeats: Float32Array;
  /** [batchSize * numBoxes * visual_pos_dim] */
  visualPos: Float32Array;
  /** [batchSize * numBoxes] visual_attention_mask, when an image of the batch has one. */
  visualAttentionMask?: Float32Array;
}

/** Group rows by their image's box count (first-seen order) and stack each group. */
export function buildBatches(
  enc: BatchEncoding,
  images: readonly VisualInput[],
  imageOf: (row: number) => number,
  cfg: LxmertConfig,
): VqaBatch[] {
  const groups = new Map<number, number[]>();
  enc.inputIds.forEach((_, row) => {
    const v = images[imageOf(row)].numBoxes;
    const g = groups.get(v);
    if (g) g.push(row);
    else groups.set(v, [row]);
  });
  const l = enc.inputIds[0].length;
  const out: VqaBatch[] = [];
  for (const [v, rows] of groups) {
    const bs = rows.length;
    const b: VqaBatch = {
      rows,
      imageIndex: rows.map(imageOf),
      batchSize: bs,
      seqLength: l,
      numBoxes: v,
      inputIds: new Int32Array(bs * l),
      attentionMask: new Int32Array(bs * l),
      tokenTypeIds: new Int32Array(bs * l),
      visualFeats: new Float32Array(bs * v * cfg.visualFeatDim),
      visualPos: new Float32Array(bs * v * cfg.visualPosDim),
    };
    rows.forEach((row, i) => {
      b.inputIds.set(enc.inputIds[row], i * l);
      b.attentionMask.set(enc.attentionMask[row], i * l);
      b.tokenTypeIds.set(enc.tokenTypeIds[row], i * l);
      const img = images[imageOf(row)];
      b.visualFeats.set(img.features, i * img.features.length);
      b.visualPos.set(img.boxes, i * img.boxes.length);
    });
    if (rows.some((row) => images[imageOf(row)].attentionMask)) {
      const mask = new Float32Array(bs * v).fill(1);
      rows.forEach((row, i) => {
        const m = images[imageOf(row)].attentionMask;
        if (m) mask.set(m, i * v);
      });
      b.visualAttentionMask = mask;
    }
    out.push(b);
  }
  return out;
}

/** Indices of the k largest scores, best first; equal scores by lower index. NaN ranks last. */
export function topK(scores: ArrayLike<number>, k: number): number[] {
  const idx: number[] = [];
  const better = (a: number, b: number) =>
    scores[a] > scores[b] ||
    (scores[a] === scores[b] && a < b) ||
    (Number.isNaN(scores[b]) && !Number.isNaN(scores[a]));
  for (let i = 0; i < scores.length; i++) {
    if (idx.length === k && !better(i, idx[k - 1])) continue;
    let p = idx.length < k ? idx.length : k - 1;
    while (p > 0 && better(i, idx[p - 1])) p--;
    if (idx.length === k) idx.pop();
    idx.splice(p, 0, i);
  }
  return idx;
}
