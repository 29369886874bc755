/** The frcnn-narrow fixture: config, weights, both images and the HF goldens (read once). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { parseFrcnnConfig, type FrcnnConfig, type RgbaImage } from '../../src/detector/index.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { toFloat32, toInt32, type RawTensor } from '../../src/codec/raw_tensor.js';
import { FIXTURES } from '../helpers/golden.js';
import type { EndToEndTolerance } from './e2e_checks.js';

export { maxAbs, relL2 } from '../helpers/compare.js';

export const FRCNN_DIR = join(FIXTURES, 'frcnn-narrow');
export const IMAGES = ['img_a', 'img_b'] as const;
export type ImageName = (typeof IMAGES)[number];

export interface FrcnnFixture {
  config: FrcnnConfig;
  weights: Map<string, RawTensor>;
  golden: Map<string, RawTensor>;
  stage: Record<string, { max_abs?: number; rel_l2?: number; max_abs_px?: number } | string>;
  endToEnd: EndToEndTolerance & { dense_rel_l2: number };
}

let cached: FrcnnFixture | null = null;

export function frcnnFixture(): FrcnnFixture {
  if (cached) return cached;
  const cases = JSON.parse(readFileSync(join(FRCNN_DIR, 'cases.json'), 'utf8'));
  cached = {
    config: parseFrcnnConfig(readFileSync(join(FRCNN_DIR, 'config.yaml'), 'utf8')),
    weights: readSafetensors(new Uint8Array(readFileSync(join(FRCNN_DIR, 'model.safetensors')))),
    golden: readSafetensors(new Uint8Array(readFileSync(join(FRCNN_DIR, 'golden.safetensors')))),
    stage: cases.tolerance.stage_isolated,
    endToEnd: cases.tolerance.end_to_end,
  };
  return cached;
}

/** A fixture PNG (8-bit RGB or RGBA) as RGBA bytes. */
export function fixtureImage(name: ImageName): RgbaImage {
  const png = decode(readFileSync(join(FRCNN_DIR, `${name}.png`)));
  if (png.depth !== 8) throw new Error(`${name}.png: depth ${png.depth}`);
  const n = png.width * png.height;
  const data = new Uint8Array(n * 4);
  const c = png.channels;
  for (let i = 0; i < n; i++) {
    data[i * 4] = png.data[i * c];
    data[i * 4 + 1] = png.data[i * c + 1];
    data[i * 4 + 2] = png.data[i * c + 2];
    data[i * 4 + 3] = c === 4 ? png.data[i * c + 3] : 255;
  }
  return { width: png.width, height: png.height, data };
}

export function goldenRaw(image: ImageName, name: string): RawTensor {
  const t = frcnnFixture().golden.get(`${image}/${name}`);
  if (!t) throw new Error(`golden ${image}/${name} missing`);
  return t;
}

export function goldenF32(image: ImageName, name: string): Float32Array {
  return toFloat32(goldenRaw(image, name));
}

export function goldenInt(image: ImageName, name: string): Int32Array {
  return toInt32(goldenRaw(image, name));
}

/** [1, C, H, W] values → [1, H, W, C] values. */
export function nchwToNhwc(v: Float32Array, shape: readonly number[]): Float32Array {
  const [n, c, h, w] = shape;
  const out = new Float32Array(v.length);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          out[((b * h + y) * w + x) * c + k] = v[((b * c + k) * h + y) * w + x];
  return out;
}

/** A golden NCHW tensor as NHWC values with its NHWC shape. */
export function goldenNhwc(
  image: ImageName,
  name: string,
): { values: Float32Array; shape: number[] } {
  const raw = goldenRaw(image, name);
  const [n, c, h, w] = raw.shape;
  return { values: nchwToNhwc(toFloat32(raw), raw.shape), shape: [n, h, w, c] };
}
