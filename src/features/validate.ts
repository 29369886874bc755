/**
 * Checks of user-supplied region features and boxes (the model's visual inputs) before they
 * reach a tensor: types, lengths against numBoxes and the config, finite values, normalized
 * boxes. Browser-safe.
 */
import { InputError } from '../errors.js';
import { limits } from '../limits.js';

/** One image's regions: what the model needs from a detector. */
export interface VisualInput {
  /** [numBoxes * featureDim] float32 region features, row-major. */
  features: Float32Array;
  /** [numBoxes * 4] float32 boxes x1, y1, x2, y2, normalized to [0, 1] (see normalizeBoxes). */
  boxes: Float32Array;
  numBoxes: number;
  /**
   * [numBoxes] 1 = attend, 0 = padding (the model's visual_attention_mask); default none, all
   * boxes attended. A detector that found fewer than 36 regions pads and masks the rest.
   */
  attentionMask?: Float32Array | Int32Array | Uint8Array;
}

export interface ValidateFeaturesOptions {
  /** Required feature width (config.visual_feat_dim); default: any width. */
  featureDim?: number;
  /** Values per box (config.visual_pos_dim); default 4. */
  posDim?: number;
  /**
   * Require boxes in [0, 1] (within 1e-5, the check airsplay/lxmert's loaders make); default
   * true. Turn off for boxes in pixels.
   */
  normalized?: boolean;
  /** Name of the input in errors; default `image`. */
  argument?: string;
}

/** Slack of airsplay/lxmert's `assert_array_less(boxes, 1 + 1e-5)` / `(-boxes, 0 + 1e-5)`. */
const BOX_SLACK = 1e-5;

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (Array.isArray(v)) return 'an Array';
  return typeof v;
}

/**
 * Validate one image's visual input; returns its feature width (features per box).
 * Throws InputError naming `<argument>.features`, `.boxes` or `.numBoxes`.
 */
export function validateFeatures(
  input: VisualInput,
  options: ValidateFeaturesOptions = {},
): number {
  const arg = options.argument ?? 'image';
  const posDim = options.posDim ?? 4;
  if (typeof input !== 'object' || input === null) {
    throw new InputError(arg, 'an object {features, boxes, numBoxes}', kindOf(input));
  }
  const { features, boxes, numBoxes } = input;
  if (!Number.isSafeInteger(numBoxes) || numBoxes <= 0) {
    throw new InputError(`${arg}.numBoxes`, 'a positive integer', String(numBoxes));
  }
  if (numBoxes > limits().maxRegions) {
    throw new InputError(
      `${arg}.numBoxes`,
      `at most ${limits().maxRegions} regions (limit maxRegions, see SECURITY.md)`,
      String(numBoxes),
    );
  }
  if (!(features instanceof Float32Array)) {
    throw new InputError(`${arg}.features`, 'a Float32Array', kindOf(features));
  }
  if (!(boxes instanceof Float32Array)) {
    throw new InputError(`${arg}.boxes`, 'a Float32Array', kindOf(boxes));
  }
  if (boxes.length !== numBoxes * posDim) {
    throw new InputError(
      `${arg}.boxes`,
      `numBoxes × ${posDim} = ${numBoxes * posDim} values`,
      `${boxes.length} values`,
    );
  }
  const want = options.featureDim;
  if (want !== undefined && features.length !== numBoxes * want) {
    const width = features.length / numBoxes;
    throw new InputError(
      `${arg}.features`,
      `numBoxes × visual_feat_dim = ${numBoxes} × ${want} = ${numBoxes * want} values`,
      `${features.length} values` + (Number.isInteger(width) ? ` (${width} per box)` : ''),
    );
  }
  if (features.length === 0 || features.length % numBoxes !== 0) {
    throw new InputError(
      `${arg}.features`,
      `a positive multiple of numBoxes = ${numBoxes} values`,
      `${features.length} values`,
    );
  }
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i])) {
      throw new InputError(`${arg}.features`, 'finite values', `${features[i]} at index ${i}`);
    }
  }
  const mask = input.attentionMask;
  if (mask !== undefined) {
    const typed =
      mask instanceof Float32Array || mask instanceof Int32Array || mask instanceof Uint8Array;
    if (!typed || mask.length !== numBoxes) {
      throw new InputError(
        `${arg}.attentionMask`,
        `a Float32Array, Int32Array or Uint8Array of numBoxes = ${numBoxes} values`,
        typed ? `${mask.length} values` : kindOf(mask),
      );
    }
    const bad = mask.findIndex((v: number) => v !== 0 && v !== 1);
    if (bad >= 0) {
      throw new InputError(`${arg}.attentionMask`, 'values 0 or 1', `${mask[bad]} at index ${bad}`);
    }
    if (!mask.some((v: number) => v === 1)) {
      throw new InputError(`${arg}.attentionMask`, 'at least one box attended (a 1)', 'all 0');
    }
  }
  const normalized = options.normalized ?? true;
  for (let i = 0; i < boxes.length; i++) {
    const v = boxes[i];
    const ok = normalized ? v >= -BOX_SLACK && v <= 1 + BOX_SLACK : Number.isFinite(v);
    if (!ok) {
      throw new InputError(
        `${arg}.boxes`,
        normalized
          ? 'normalized boxes, values in [0, 1] (divide pixel boxes with normalizeBoxes)'
          : 'finite values',
        `${v} at index ${i} (box ${Math.floor(i / posDim)})`,
      );
    }
  }
  return features.length / numBoxes;
}
