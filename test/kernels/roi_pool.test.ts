/**
 * LxmertRoiPool (torchvision RoIPool, float32 bin edges) on awkward boxes: out of the map,
 * partly out, one cell wide or tall, reversed, half-cell corners (C rounding), and the heights
 * and widths where float32 and float64 bin edges differ. The WGSL kernel (webgpu) and the
 * wasm/cpu host loop are each compared with the tf-op oracle (roiPoolFallback), exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseWebGPU } from '../../src/backend.js';
import { roiPoolBins, roiPoolFallback } from '../../kernels/fallback/roi_pool.js';
import type { RoiPoolAttrs } from '../../kernels/names.js';
import { roiPool } from '../../kernels/ops.js';
import { trackDispatches } from '../../kernels/runtime/dispatch_counter.js';
import { useBackend } from '../helpers/backends.js';
import { onCpu, randomArray, useWebGPU } from './webgpu_env.js';

/** Sizes below 128 where float32 and float64 bin edges differ for 14 bins (fixture README). */
const F32_EDGE_SIZES = [29, 57, 58, 62, 114, 116, 121, 122, 123, 124];

const ATTRS: RoiPoolAttrs = { pooledHeight: 14, pooledWidth: 14, spatialScale: 1 / 16 };
const H = 130;
const W = 131;
const C = 5;

/** Boxes in input pixels (stride 16): awkward cases, then every float32-edge height/width. */
function awkwardBoxes(): Float32Array {
  const cell = 16;
  const boxes: number[][] = [
    [-200, -100, -40, -20], // entirely above-left of the map
    [5000, 5000, 6000, 6100], // entirely below-right
    [-40, -40, 100, 100], // partly out
    [1900, 10, 2200, 300], // right edge and beyond
    [32, 32, 32, 400], // one cell wide
    [32, 32, 400, 32], // one cell tall
    [0, 0, 0, 0], // a point
    [300, 300, 100, 100], // reversed: extent clamps to 1
    [8, 8, 24, 24], // half-cell corners: round half away from zero
    [-8, -8, 7.99, 8], // -0.5 → -1; 0.4994 → 0
    [0.3, 0.7, 2079.6, 2063.2], // the whole map
    [17.5, 3.25, 1000.125, 333.75],
  ];
  for (const n of F32_EDGE_SIZES) {
    // Extent n cells: from cell 2 to cell n + 1.
    boxes.push([2 * cell, 3 * cell, 2 * cell + 8, (n + 2) * cell]); // height n
    boxes.push([3 * cell, 2 * cell, (n + 2) * cell, 2 * cell + 8]); // width n
  }
  return Float32Array.from(boxes.flat());
}

describe('roiPoolBins: float32 edges', () => {
  it('differ from float64 exactly at the README sizes below 128', () => {
    const differing: number[] = [];
    for (let n = 1; n < 128; n++) {
      const box = [0, 0, 8, (n - 1) * 16]; // ys 0, ye n-1: height n cells
      const f32 = roiPoolBins(box, 1000, 1000, ATTRS, true);
      const f64 = roiPoolBins(box, 1000, 1000, ATTRS, false);
      if (f32.hs.join() !== f64.hs.join() || f32.he.join() !== f64.he.join()) differing.push(n);
    }
    expect(differing).toEqual(F32_EDGE_SIZES);
  });

  it('rh = 29 ends at ys + 29 (float64 would say 30); rh = 57 at 58 (float64: 57)', () => {
    expect(roiPoolBins([0, 0, 0, 28 * 16], 1000, 1000, ATTRS).he[13]).toBe(29);
    expect(roiPoolBins([0, 0, 0, 28 * 16], 1000, 1000, ATTRS, false).he[13]).toBe(30);
    expect(roiPoolBins([0, 0, 0, 56 * 16], 1000, 1000, ATTRS).he[13]).toBe(58);
    expect(roiPoolBins([0, 0, 0, 56 * 16], 1000, 1000, ATTRS, false).he[13]).toBe(57);
  });
});

async function oracle(map: Float32Array, boxes: Float32Array): Promise<Float32Array> {
  const [out] = await onCpu(() => roiPoolFallback(tf.tensor4d(map, [1, H, W, C]), boxes, ATTRS));
  return out;
}

describe.each(['cpu', 'wasm'] as const)('LxmertRoiPool on %s (host loop) vs tf-op oracle', (b) => {
  it('awkward boxes, exactly', async () => {
    await useBackend(b);
    const map = randomArray(H * W * C, 11, 3);
    const boxes = awkwardBoxes();
    const ref = await oracle(map, boxes);
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(map, [1, H, W, C]);
    const bx = tf.tensor2d(boxes, [boxes.length / 4, 4]);
    const y = roiPool(x, bx, 14, 1 / 16);
    expect(y.shape).toEqual([boxes.length / 4, 14, 14, C]);
    const got = await y.data();
    expect(got).toEqual(ref);
    // Empty bins (boxes off the map) are 0, not -FLT_MAX; negative maxima survive.
    expect(got.subarray(0, 14 * 14 * C).every((v) => v === 0)).toBe(true);
    expect(got.some((v) => v < 0)).toBe(true);
    tf.dispose([x, bx, y]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('LxmertRoiPool (webgpu) vs tf-op oracle', () => {
  let ready = false;
  beforeAll(async () => {
    ready = (await useWebGPU()) !== null;
  });
  afterAll(async () => {
    await releaseWebGPU();
  });

  it('awkward boxes, exactly, one dispatch', async ({ skip }) => {
    if (!ready) skip();
    const map = randomArray(H * W * C, 12, 3);
    const boxes = awkwardBoxes();
    const ref = await oracle(map, boxes);
    const x = tf.tensor4d(map, [1, H, W, C]);
    const bx = tf.tensor2d(boxes, [boxes.length / 4, 4]);
    const counter = trackDispatches();
    const y = roiPool(x, bx, 14, 1 / 16);
    expect(counter.stop().byProgram).toEqual({ RoiPoolProgram: 1 });
    expect(await y.data()).toEqual(ref);
    tf.dispose([x, bx, y]);
  });

  it('every extent 1..300 against the float32 edges (7 bins, 3 channels)', async ({ skip }) => {
    if (!ready) skip();
    const attrs: RoiPoolAttrs = { pooledHeight: 7, pooledWidth: 7, spatialScale: 1 / 16 };
    const h = 310;
    const w = 12;
    const map = randomArray(h * w * 3, 13, 1);
    const boxes = Float32Array.from(
      Array.from({ length: 300 }, (_, i) => [0, 0, 16 * 11, 16 * i]).flat(),
    );
    const [ref] = await onCpu(() => roiPoolFallback(tf.tensor4d(map, [1, h, w, 3]), boxes, attrs));
    const x = tf.tensor4d(map, [1, h, w, 3]);
    const bx = tf.tensor2d(boxes, [300, 4]);
    const y = roiPool(x, bx, 7, 1 / 16);
    expect(await y.data()).toEqual(ref);
    tf.dispose([x, bx, y]);
  });
});
