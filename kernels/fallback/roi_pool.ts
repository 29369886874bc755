/**
 * RoIPool off the GPU. The bin edges are computed on the host from the box values, exactly as
 * torchvision does in float32 (roiPoolBins). Two implementations share them:
 * - roiPoolFallback, tf ops: the max over each bin is a gather of the bin's cells (padded to a
 *   common count by repeating a cell of the bin, which leaves the max unchanged) and tf.max;
 *   empty bins read an appended zero row. The oracle of roi_pool.wgsl and of the loop below.
 * - roiPoolHost, a loop over the map's values: the kernel registered for wasm and cpu, where the
 *   map already lives in host memory (the gather's [R·P·Q·cells, C] temporary made it ~10 s for
 *   300 regions on wasm; the loop takes milliseconds).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { checkRoiPool, requireInputs } from '../guards.js';
import { LXMERT_ROI_POOL, type RoiPoolAttrs } from '../names.js';

/** C's round(): half away from zero. */
function roundHalfAway(v: number): number {
  const r = Math.floor(Math.abs(v) + 0.5);
  // floor(|v| + 0.5) in float64 is exact for the float32 values that reach here.
  return v < 0 ? -r : r;
}

/** Bin edges [start, end) of every box along one axis, clamped to [0, size]. */
export interface RoiBins {
  /** [R · P] first cell rows, [R · P] end rows, [R · Q] first columns, [R · Q] end columns. */
  hs: Int32Array;
  he: Int32Array;
  ws: Int32Array;
  we: Int32Array;
}

/**
 * torchvision's bin edges. `float32` false computes the bin size in float64 instead, which
 * gives different edges for some sizes (for tests that show why float32 matters).
 */
export function roiPoolBins(
  boxes: ArrayLike<number>,
  height: number,
  width: number,
  a: RoiPoolAttrs,
  float32 = true,
): RoiBins {
  const f = float32 ? Math.fround : (v: number) => v;
  const n = boxes.length / 4;
  const P = a.pooledHeight;
  const Q = a.pooledWidth;
  const bins: RoiBins = {
    hs: new Int32Array(n * P),
    he: new Int32Array(n * P),
    ws: new Int32Array(n * Q),
    we: new Int32Array(n * Q),
  };
  const scale = f(a.spatialScale);
  const axis = (
    start: number,
    end: number,
    pooled: number,
    size: number,
    s: Int32Array,
    e: Int32Array,
    r: number,
  ) => {
    const extent = Math.max(end - start + 1, 1);
    // Math.fround(n / d) is the correctly rounded float32 quotient for these small integers.
    const bin = f(extent / pooled);
    for (let p = 0; p < pooled; p++) {
      const lo = Math.floor(f(p * bin)) + start;
      const hi = Math.ceil(f((p + 1) * bin)) + start;
      s[r * pooled + p] = Math.min(Math.max(lo, 0), size);
      e[r * pooled + p] = Math.min(Math.max(hi, 0), size);
    }
  };
  for (let r = 0; r < n; r++) {
    const xs = roundHalfAway(f(boxes[r * 4] * scale));
    const ys = roundHalfAway(f(boxes[r * 4 + 1] * scale));
    const xe = roundHalfAway(f(boxes[r * 4 + 2] * scale));
    const ye = roundHalfAway(f(boxes[r * 4 + 3] * scale));
    axis(ys, ye, P, height, bins.hs, bins.he, r);
    axis(xs, xe, Q, width, bins.ws, bins.we, r);
  }
  return bins;
}

/** Elements gathered per chunk of boxes (bounds the temporary [rows · cells, C] tensor). */
const CHUNK_ELEMENTS = 1 << 24;

/** x [1, H, W, C], host box values [R · 4] → [R, P, Q, C]. */
export function roiPoolFallback(
  x: tf.Tensor4D,
  boxes: ArrayLike<number>,
  a: RoiPoolAttrs,
): tf.Tensor4D {
  const [, height, width, channels] = x.shape;
  const n = boxes.length / 4;
  const P = a.pooledHeight;
  const Q = a.pooledWidth;
  const bins = roiPoolBins(boxes, height, width, a);
  const zeroRow = height * width;
  // Cells per bin of each box, and the largest.
  const cellsOf = (r: number) => {
    let most = 1;
    for (let p = 0; p < P; p++) {
      for (let q = 0; q < Q; q++) {
        const hn = bins.he[r * P + p] - bins.hs[r * P + p];
        const wn = bins.we[r * Q + q] - bins.ws[r * Q + q];
        most = Math.max(most, hn > 0 && wn > 0 ? hn * wn : 1);
      }
    }
    return most;
  };
  return tf.tidy(() => {
    const table = tf.concat([tf.reshape(x, [height * width, channels]), tf.zeros([1, channels])]);
    const parts: tf.Tensor[] = [];
    let r0 = 0;
    while (r0 < n) {
      // Grow the chunk while its gather stays within CHUNK_ELEMENTS.
      let k = cellsOf(r0);
      let r1 = r0 + 1;
      while (r1 < n) {
        const k1 = Math.max(k, cellsOf(r1));
        if ((r1 + 1 - r0) * P * Q * k1 * channels > CHUNK_ELEMENTS) break;
        k = k1;
        r1++;
      }
      const idx = new Int32Array((r1 - r0) * P * Q * k);
      let i = 0;
      for (let r = r0; r < r1; r++) {
        for (let p = 0; p < P; p++) {
          const hs = bins.hs[r * P + p];
          const hn = bins.he[r * P + p] - hs;
          for (let q = 0; q < Q; q++) {
            const ws = bins.ws[r * Q + q];
            const wn = bins.we[r * Q + q] - ws;
            for (let j = 0; j < k; j++) {
              if (hn <= 0 || wn <= 0) idx[i++] = zeroRow;
              else {
                const c = j < hn * wn ? j : 0; // repeat the first cell: the max is unchanged
                idx[i++] = (hs + Math.floor(c / wn)) * width + ws + (c % wn);
              }
            }
          }
        }
      }
      const cells = tf.gather(table, tf.tensor1d(idx, 'int32'));
      parts.push(tf.max(tf.reshape(cells, [r1 - r0, P, Q, k, channels]), 3));
      r0 = r1;
    }
    if (parts.length === 0) return tf.zeros([0, P, Q, channels]) as tf.Tensor4D;
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor4D;
  });
}

/** The same pooling as a loop over host values: x [H · W · C] (NHWC) → [R · P · Q · C]. */
export function roiPoolHost(
  x: Float32Array,
  shape: readonly number[],
  boxes: ArrayLike<number>,
  a: RoiPoolAttrs,
): Float32Array {
  const [, height, width, channels] = shape;
  const n = boxes.length / 4;
  const P = a.pooledHeight;
  const Q = a.pooledWidth;
  const bins = roiPoolBins(boxes, height, width, a);
  const out = new Float32Array(n * P * Q * channels);
  const best = new Float32Array(channels);
  for (let r = 0; r < n; r++) {
    for (let p = 0; p < P; p++) {
      const hs = bins.hs[r * P + p];
      const he = bins.he[r * P + p];
      for (let q = 0; q < Q; q++) {
        const ws = bins.ws[r * Q + q];
        const we = bins.we[r * Q + q];
        const base = ((r * P + p) * Q + q) * channels;
        if (he <= hs || we <= ws) continue; // empty bin: 0
        best.fill(-Infinity);
        for (let h = hs; h < he; h++) {
          for (let w = ws; w < we; w++) {
            const cell = (h * width + w) * channels;
            for (let c = 0; c < channels; c++) {
              const v = x[cell + c];
              if (v > best[c]) best[c] = v;
            }
          }
        }
        out.set(best, base);
      }
    }
  }
  return out;
}

/** The wasm/cpu kernel (registered by fallbackKernelConfigs). */
export const roiPoolTf: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, boxes } = requireInputs(LXMERT_ROI_POOL, inputs as Record<string, TensorInfo>, [
    'x',
    'boxes',
  ]);
  const a = attrs as unknown as RoiPoolAttrs;
  checkRoiPool(x, boxes, a);
  // wasm/cpu keep tensors in host memory: these reads are copies, not GPU round trips.
  const kb = backend as tf.KernelBackend;
  const values = kb.readSync(x.dataId) as Float32Array;
  const box = kb.readSync(boxes.dataId) as Float32Array;
  const out = roiPoolHost(values, x.shape, box, a);
  return tf.tensor4d(out, [box.length / 4, a.pooledHeight, a.pooledWidth, x.shape[3]]);
};
