/**
 * answer()'s image argument → the model's VisualInput (features + boxes normalized to [0, 1]),
 * checked at the boundary; images (for the detector) are told apart from region features.
 */
import { InputError } from '../errors.js';
import { normalizeBoxes, obj36VisualInput } from '../features/obj36.js';
import type { Obj36Image } from '../features/obj36.js';
import type { VisualInput } from '../features/validate.js';
import type { ImageInput, RegionInput, VqaInput } from './types.js';

function isObj36(x: object): x is Obj36Image {
  return 'imgW' in x && 'imgH' in x && 'features' in x;
}

/** An image for the detector (Blob, ImageBitmap, ImageData, RGBA pixels or PNG/JPEG bytes). */
export function isImageInput(x: unknown): x is ImageInput {
  if (typeof x !== 'object' || x === null) return false;
  if (x instanceof Uint8Array) return true;
  if (typeof Blob !== 'undefined' && x instanceof Blob) return true;
  if (typeof ImageBitmap !== 'undefined' && x instanceof ImageBitmap) return true;
  if (typeof ImageData !== 'undefined' && x instanceof ImageData) return true;
  return 'width' in x && 'height' in x && 'data' in x && !('features' in x);
}

/** Region features of any accepted form → VisualInput (boxes normalized, not yet validated). */
export function toVisualInput(input: RegionInput): VisualInput {
  if (isObj36(input)) return obj36VisualInput(input);
  if ('imageSize' in input) {
    const size = input.imageSize as { width?: unknown; height?: unknown } | undefined;
    if (typeof size?.width !== 'number' || typeof size?.height !== 'number') {
      throw new InputError('input.imageSize', '{width, height} in pixels', JSON.stringify(size));
    }
    return {
      features: input.features,
      boxes: normalizeBoxes(input.boxes, size.width, size.height),
      numBoxes: input.numBoxes,
    };
  }
  return { features: input.features, boxes: input.boxes, numBoxes: input.numBoxes };
}

/** Check answer()'s input and question; regions → VisualInput, images pass through. */
export function checkAnswerArgs(
  input: VqaInput,
  question: string,
): { visual: VisualInput } | { image: ImageInput } {
  if (typeof question !== 'string' || question.trim() === '') {
    throw new InputError('question', 'a non-empty string', JSON.stringify(question));
  }
  if (typeof input !== 'object' || input === null) {
    throw new InputError('input', 'an image or region features', String(input));
  }
  if (isImageInput(input)) return { image: input };
  if (!('features' in input)) {
    throw new InputError(
      'input',
      'an image (Blob, ImageBitmap, ImageData, {width, height, data}, PNG/JPEG bytes) or ' +
        'region features ' +
        '(an obj36 record, or {features, boxes, numBoxes[, imageSize]})',
      `an object with keys ${Object.keys(input).join(', ') || '(none)'}`,
    );
  }
  return { visual: toVisualInput(input) };
}
