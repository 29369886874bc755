/**
 * "Where it looked": the cross-modality attention of the pooled token ([CLS], row 0 of the
 * language stream) to the regions, per cross layer and head, and the heatmap drawn from it.
 * Pure functions over host arrays; the drawing takes a 2D context.
 */

/** The pooled token's attention to each region: data[(layer * heads + head) * regions + r]. */
export interface RegionAttention {
  layers: number;
  heads: number;
  regions: number;
  data: Float32Array;
}

/** Which slice to show: a cross layer (0-based) and a head, or the mean over heads. */
export interface AttentionView {
  layer: number;
  head: number | 'mean';
}

/** One weight per region (sums to 1 when the slice does): the chosen head, or the heads' mean. */
export function regionWeights(att: RegionAttention, view: AttentionView): Float32Array {
  const { layers, heads, regions, data } = att;
  if (view.layer < 0 || view.layer >= layers) {
    throw new RangeError(`layer ${view.layer} outside 0..${layers - 1}`);
  }
  const out = new Float32Array(regions);
  const hs = view.head === 'mean' ? [...Array(heads).keys()] : [view.head];
  for (const h of hs) {
    if (h < 0 || h >= heads) throw new RangeError(`head ${h} outside 0..${heads - 1}`);
    const o = (view.layer * heads + h) * regions;
    for (let r = 0; r < regions; r++) out[r] += data[o + r] / hs.length;
  }
  return out;
}

/**
 * The heatmap as one value per cell of a `w × h` grid over the image: each region adds its
 * weight over the cells its box covers (boxes in image pixels, x1 y1 x2 y2), and the result is
 * scaled to a maximum of 1. Overlapping regions add up, as the model's attention does.
 */
export function heatGrid(
  boxes: Float32Array,
  weights: Float32Array,
  image: { width: number; height: number },
  grid: { w: number; h: number },
): Float32Array {
  const heat = new Float32Array(grid.w * grid.h);
  const sx = grid.w / image.width;
  const sy = grid.h / image.height;
  for (let r = 0; r < weights.length; r++) {
    const x1 = Math.max(0, Math.floor(boxes[4 * r] * sx));
    const y1 = Math.max(0, Math.floor(boxes[4 * r + 1] * sy));
    const x2 = Math.min(grid.w, Math.ceil(boxes[4 * r + 2] * sx));
    const y2 = Math.min(grid.h, Math.ceil(boxes[4 * r + 3] * sy));
    for (let y = y1; y < y2; y++) {
      for (let x = x1; x < x2; x++) heat[y * grid.w + x] += weights[r];
    }
  }
  let max = 0;
  for (const v of heat) max = Math.max(max, v);
  if (max > 0) for (let i = 0; i < heat.length; i++) heat[i] /= max;
  return heat;
}

/** Regions ranked by weight, best first. */
export function rankRegions(weights: Float32Array): number[] {
  return [...weights.keys()].sort((a, b) => weights[b] - weights[a]);
}

/**
 * Paint the heatmap on `ctx` (sized like the displayed photo): dark where the model did not
 * look, transparent where it looked most, with a warm tint at the peaks.
 */
export function drawHeatmap(
  ctx: CanvasRenderingContext2D,
  heat: Float32Array,
  grid: { w: number; h: number },
): void {
  const img = new ImageData(grid.w, grid.h);
  for (let i = 0; i < heat.length; i++) {
    const v = heat[i];
    img.data[4 * i] = Math.round(255 * v);
    img.data[4 * i + 1] = Math.round(140 * v);
    img.data[4 * i + 2] = 0;
    img.data[4 * i + 3] = Math.round(200 * (1 - v) + 40 * v);
  }
  const cell = new OffscreenCanvas(grid.w, grid.h);
  cell.getContext('2d')!.putImageData(img, 0, 0);
  const { width, height } = ctx.canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(cell, 0, 0, width, height);
}
