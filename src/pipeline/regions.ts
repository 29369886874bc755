/**
 * A detector's output as LXMERT's visual input, and a small cache of it per image. Exactly the
 * obj36 path (test/fixtures/lxmert-vqa-tiny/README.md): `roi_features` → `visual_feats`,
 * `normalized_boxes` → `visual_pos`. When fewer than 36 detections survived, the padded rows
 * get 0 in the visual attention mask; otherwise no mask is passed (as the obj36 path passes
 * none). Browser-safe.
 */
import type { FrcnnDetections } from '../detector/index.js';
import { InputError } from '../errors.js';
import type { RgbaImage } from '../features/image.js';
import type { VisualInput } from '../features/validate.js';

/** What the pipeline needs of a detector: GeneralizedRCNN. */
export interface RegionDetector {
  detect(image: RgbaImage, options?: { signal?: AbortSignal }): Promise<FrcnnDetections>;
  dispose?(): unknown;
}

/** The detections of one image as the model's visual input (rows padded to 36 kept). */
export function detectionsToVisualInput(d: FrcnnDetections): VisualInput {
  const rows = d.normalizedBoxes.length / 4;
  if (!Number.isInteger(rows) || rows === 0 || d.roiFeatures.length !== rows * d.featureDim) {
    throw new InputError(
      'detections',
      `roiFeatures of rows × featureDim and normalizedBoxes of rows × 4 values`,
      `${d.roiFeatures.length} and ${d.normalizedBoxes.length} values (featureDim ${d.featureDim})`,
    );
  }
  if (d.numDetections === 0) {
    throw new InputError('image', 'an image with at least one detected region', 'no detections');
  }
  const input: VisualInput = {
    features: Float32Array.from(d.roiFeatures),
    boxes: Float32Array.from(d.normalizedBoxes),
    numBoxes: rows,
  };
  if (d.numDetections < rows) {
    const mask = new Float32Array(rows);
    for (let i = 0; i < rows; i++) mask[i] = d.visualAttentionMask[i];
    input.attentionMask = mask;
  }
  return input;
}

/** Two FNV-1a 32-bit hashes (different offsets) of the size and every RGBA byte. */
export function imageKey(image: RgbaImage): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  const mix = (v: number) => {
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul(b ^ v, 0x01000193) ^ (b >>> 15);
  };
  mix(image.width);
  mix(image.height);
  const d = image.data;
  // Four bytes at a time as one 32-bit word when aligned (the common case): 3.4 MB in ~3 ms.
  if (d.byteOffset % 4 === 0 && d.length % 4 === 0) {
    const words = new Uint32Array(d.buffer, d.byteOffset, d.length / 4);
    for (let i = 0; i < words.length; i++) mix(words[i]);
  } else {
    for (let i = 0; i < d.length; i++) mix(d[i]);
  }
  return `${image.width}x${image.height}:${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}`;
}

/**
 * Least-recently-used cache of detections by image content (imageKey): the same picture asked
 * about again, even through another object, reuses its regions; a canvas redrawn does not.
 */
export class RegionCache<T = VisualInput> {
  private readonly entries = new Map<string, Promise<T>>();

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) {
      throw new InputError('regionCacheSize', 'a non-negative integer', String(capacity));
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached regions of `key`, or those `compute` makes (cached unless it fails). */
  get(key: string, compute: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const p = compute();
    if (this.capacity === 0) return p;
    this.entries.set(key, p);
    p.catch(() => this.entries.delete(key));
    while (this.entries.size > this.capacity) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    return p;
  }

  clear(): void {
    this.entries.clear();
  }
}
