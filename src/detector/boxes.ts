/**
 * Box arithmetic on the host, in float32 as HF computes it (torch float32 tensors; every step
 * rounded with Math.fround): Box2BoxTransform.apply_deltas, Boxes.clip, nonempty, torchvision
 * nms. Boxes are flat x1,y1,x2,y2 arrays.
 */

const f = Math.fround;

/** detectron2's `_DEFAULT_SCALE_CLAMP` = log(1000 / 16): dw, dh are clamped to it. */
export const SCALE_CLAMP = Math.log(1000 / 16);

/**
 * Box2BoxTransform(weights).apply_deltas for one delta per box: deltas[i·stride + offset + k]
 * (k = dx, dy, dw, dh) applied to boxes[i]. Widths without +1.
 */
export function applyDeltas(
  deltas: ArrayLike<number>,
  boxes: ArrayLike<number>,
  weights: readonly [number, number, number, number],
  count: number,
  stride = 4,
  offsets?: ArrayLike<number>,
): Float32Array {
  const out = new Float32Array(count * 4);
  const [wx, wy, ww, wh] = weights.map(f);
  const clamp = f(SCALE_CLAMP);
  for (let i = 0; i < count; i++) {
    const x1 = boxes[i * 4];
    const y1 = boxes[i * 4 + 1];
    const w = f(boxes[i * 4 + 2] - x1);
    const h = f(boxes[i * 4 + 3] - y1);
    const cx = f(x1 + f(0.5 * w));
    const cy = f(y1 + f(0.5 * h));
    const d = i * stride + (offsets ? offsets[i] : 0);
    const dx = f(deltas[d] / wx);
    const dy = f(deltas[d + 1] / wy);
    const dw = Math.min(f(deltas[d + 2] / ww), clamp);
    const dh = Math.min(f(deltas[d + 3] / wh), clamp);
    const pcx = f(f(dx * w) + cx);
    const pcy = f(f(dy * h) + cy);
    const pw = f(f(Math.exp(dw)) * w);
    const ph = f(f(Math.exp(dh)) * h);
    out[i * 4] = f(pcx - f(0.5 * pw));
    out[i * 4 + 1] = f(pcy - f(0.5 * ph));
    out[i * 4 + 2] = f(pcx + f(0.5 * pw));
    out[i * 4 + 3] = f(pcy + f(0.5 * ph));
  }
  return out;
}

/** Boxes.clip((h, w)) in place: x to [0, w], y to [0, h]. */
export function clipBoxes(boxes: Float32Array, height: number, width: number): Float32Array {
  for (let i = 0; i < boxes.length; i += 4) {
    boxes[i] = Math.min(Math.max(boxes[i], 0), width);
    boxes[i + 1] = Math.min(Math.max(boxes[i + 1], 0), height);
    boxes[i + 2] = Math.min(Math.max(boxes[i + 2], 0), width);
    boxes[i + 3] = Math.min(Math.max(boxes[i + 3], 0), height);
  }
  return boxes;
}

/**
 * torchvision.ops.nms over boxes already in processing order (score descending): a box is
 * suppressed by an earlier kept box when IoU > threshold (strict), IoU in float32 without +1.
 * Returns the kept positions in order; stops after `limit` kept boxes.
 */
export function nms(
  boxes: ArrayLike<number>,
  count: number,
  threshold: number,
  limit = Infinity,
): number[] {
  const thr = f(threshold);
  const area = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    area[i] = f(f(boxes[i * 4 + 2] - boxes[i * 4]) * f(boxes[i * 4 + 3] - boxes[i * 4 + 1]));
  }
  const suppressed = new Uint8Array(count);
  const keep: number[] = [];
  for (let i = 0; i < count && keep.length < limit; i++) {
    if (suppressed[i]) continue;
    keep.push(i);
    const x1 = boxes[i * 4];
    const y1 = boxes[i * 4 + 1];
    const x2 = boxes[i * 4 + 2];
    const y2 = boxes[i * 4 + 3];
    for (let j = i + 1; j < count; j++) {
      if (suppressed[j]) continue;
      const w = Math.max(f(Math.min(x2, boxes[j * 4 + 2]) - Math.max(x1, boxes[j * 4])), 0);
      const h = Math.max(f(Math.min(y2, boxes[j * 4 + 3]) - Math.max(y1, boxes[j * 4 + 1])), 0);
      const inter = f(w * h);
      const iou = f(inter / f(f(area[i] + area[j]) - inter));
      if (iou > thr) suppressed[j] = 1;
    }
  }
  return keep;
}

/** Indices of `scores` sorted descending (ties: lower index first), the first `k`. */
export function topkIndices(scores: ArrayLike<number>, k: number): Int32Array {
  const idx = Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((a, b) => scores[b] - scores[a] || a - b);
  return Int32Array.from(idx.slice(0, Math.min(k, scores.length)));
}
