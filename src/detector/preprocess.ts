/**
 * Preprocess (HF processing_image.py): decoded RGBA → the network's channel order (B,G,R for the
 * Caffe-trained checkpoint) as float32 0..255 → ResizeShortestEdge → (x − pixel_mean) / pixel_std.
 * Batch of one, so no padding (`size_divisibility` 0).
 *
 * The channel order is the one HF's URL path feeds (PIL R,G,B, then a swap to B,G,R); its local-
 * file path feeds R,G,B by mistake (transformers#8333). See the frcnn-narrow fixture README.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../errors.js';
import type { FrcnnConfig } from './config.js';

/** A decoded 8-bit RGBA image, row-major, `width · height · 4` bytes. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

export interface PreprocessedImage {
  /** [1, H, W, 3] float32, network channel order, mean subtracted (NHWC). */
  input: tf.Tensor4D;
  /** Resized (H, W). */
  imageSize: [number, number];
  /** Raw (H, W). */
  rawSize: [number, number];
  /** raw / resized, float32, (y, x). */
  scalesYx: [number, number];
}

/**
 * ResizeShortestEdge's output size, in float64 as HF computes it: the short side to `minSize`,
 * then both scaled down if the long side passes `maxSize`, rounded half up.
 */
export function resizeShortestEdgeSize(
  height: number,
  width: number,
  minSize: number,
  maxSize: number,
): [number, number] {
  const scale = minSize / Math.min(height, width);
  let newh: number;
  let neww: number;
  if (height < width) {
    newh = minSize;
    neww = scale * width;
  } else {
    newh = scale * height;
    neww = minSize;
  }
  if (Math.max(newh, neww) > maxSize) {
    const s = maxSize / Math.max(newh, neww);
    newh *= s;
    neww *= s;
  }
  return [Math.floor(newh + 0.5), Math.floor(neww + 0.5)];
}

/** Check an RgbaImage's fields; returns nothing, throws InputError naming `argument`. */
export function checkRgbaImage(image: RgbaImage, argument = 'image'): void {
  const { width, height, data } = image ?? ({} as RgbaImage);
  for (const [k, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new InputError(`${argument}.${k}`, 'a positive integer', String(v));
    }
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new InputError(`${argument}.data`, 'a Uint8Array of RGBA bytes', typeof data);
  }
  if (data.length !== width * height * 4) {
    throw new InputError(
      `${argument}.data`,
      `${width}×${height}×4 = ${width * height * 4} RGBA bytes`,
      `${data.length} bytes`,
    );
  }
}

/**
 * One axis of PyTorch's CPU bilinear (align_corners=False) for float32 images: per output index,
 * the first source index, its offset to the second (0 at the last row) and the two weights.
 * As PyTorch computes them: the scale in float32, the source coordinate from it in float64,
 * the weight rounded to float32 (this matches HF's goldens to 3e-5 on the 0..255 scale; exact
 * bilinear, or a float32 coordinate, is 2.5e-3 to 4e-3 off next to sharp edges).
 */
function linearTaps(inSize: number, outSize: number) {
  const f = Math.fround;
  const scale = f(inSize / outSize);
  const index = new Int32Array(outSize);
  const offset = new Int32Array(outSize);
  const w0 = new Float32Array(outSize);
  const w1 = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = Math.max(scale * (i + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const lambda = Math.min(Math.max(f(src - i0), 0), 1);
    index[i] = i0;
    offset[i] = i0 < inSize - 1 ? 1 : 0;
    w1[i] = lambda;
    w0[i] = f(1 - lambda);
  }
  return { index, offset, w0, w1 };
}

/**
 * The preprocessed image on the host: RGBA bytes → network channel order → bilinear resize
 * (HF's `F.interpolate(mode="bilinear", align_corners=False)`: half-pixel centres, no
 * antialias, PyTorch's float32 coordinates) → (x − mean) / std, as [H, W, 3] float32 (HWC).
 * On the host so every backend gets the same bits (the image is there anyway).
 */
export function preprocessValues(
  image: RgbaImage,
  size: [number, number],
  config: Pick<FrcnnConfig, 'inputFormat' | 'pixelMean' | 'pixelStd'>,
): Float32Array {
  const f = Math.fround;
  const { width, data } = image;
  const [outH, outW] = size;
  const ys = linearTaps(image.height, outH);
  const xs = linearTaps(width, outW);
  // Channel c of the network reads RGBA byte rgba[c].
  const rgba = config.inputFormat === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  const mean = config.pixelMean.map(f);
  const std = config.pixelStd.map(f);
  const out = new Float32Array(outH * outW * 3);
  for (let y = 0; y < outH; y++) {
    const r0 = ys.index[y] * width;
    const r1 = r0 + ys.offset[y] * width;
    const wy0 = ys.w0[y];
    const wy1 = ys.w1[y];
    for (let x = 0; x < outW; x++) {
      const c0 = xs.index[x];
      const c1 = c0 + xs.offset[x];
      const wx0 = xs.w0[x];
      const wx1 = xs.w1[x];
      for (let c = 0; c < 3; c++) {
        const k = rgba[c];
        const top = f(f(data[(r0 + c0) * 4 + k] * wx0) + f(data[(r0 + c1) * 4 + k] * wx1));
        const bottom = f(f(data[(r1 + c0) * 4 + k] * wx0) + f(data[(r1 + c1) * 4 + k] * wx1));
        const v = f(f(top * wy0) + f(bottom * wy1));
        out[(y * outW + x) * 3 + c] = f(f(v - mean[c]) / std[c]);
      }
    }
  }
  return out;
}

/** The detector's input [1, H, W, 3] with its sizes (see preprocessValues). */
export function preprocess(image: RgbaImage, config: FrcnnConfig): PreprocessedImage {
  checkRgbaImage(image);
  const rawSize: [number, number] = [image.height, image.width];
  const imageSize = resizeShortestEdgeSize(
    image.height,
    image.width,
    config.minSizeTest,
    config.maxSizeTest,
  );
  const values = preprocessValues(image, imageSize, config);
  const input = tf.tensor4d(values, [1, imageSize[0], imageSize[1], 3]);
  const scalesYx: [number, number] = [
    Math.fround(rawSize[0] / imageSize[0]),
    Math.fround(rawSize[1] / imageSize[1]),
  ];
  return { input, imageSize, rawSize, scalesYx };
}
