/**
 * Reader for airsplay/lxmert's `*_obj36.tsv` region features (bottom-up-attention Faster R-CNN
 * output): one image per line, 10 tab-separated fields, arrays as base64 of little-endian bytes,
 * boxes in pixels. Lines may end with `\n` or `\r\n`. Browser-safe (no node: imports).
 */
import { InputError } from '../errors.js';
import { limits } from '../limits.js';
import { decodeBase64, float32LE, int64LEToInt32 } from './base64.js';
import type { VisualInput } from './validate.js';

export { validateFeatures } from './validate.js';
export type { ValidateFeaturesOptions, VisualInput } from './validate.js';

/** The fields of a line, in order. */
export const OBJ36_FIELDS = [
  'img_id',
  'img_h',
  'img_w',
  'objects_id',
  'objects_conf',
  'attrs_id',
  'attrs_conf',
  'num_boxes',
  'boxes',
  'features',
] as const;

/** One image of an obj36 file. */
export interface Obj36Image {
  imgId: string;
  /** Image height in pixels. */
  imgH: number;
  /** Image width in pixels. */
  imgW: number;
  /** Visual Genome object class per box (int64 in the file). */
  objectsId: Int32Array;
  objectsConf: Float32Array;
  /** Visual Genome attribute class per box (int64 in the file). */
  attrsId: Int32Array;
  attrsConf: Float32Array;
  numBoxes: number;
  /** [numBoxes * 4] x1, y1, x2, y2 in pixels of the imgW x imgH image. */
  boxes: Float32Array;
  /** [numBoxes * featureDim] region features, row-major. */
  features: Float32Array;
  /** Features per box (2048 for bottom-up-attention). */
  featureDim: number;
}

export interface ParseObj36Options {
  /** Prefix of error arguments, e.g. `features.tsv line 3`. */
  where?: string;
}

function positiveInt(text: string, argument: string): number {
  const v = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new InputError(argument, 'a positive decimal integer', `'${text.slice(0, 40)}'`);
  }
  return v;
}

function sized(bytes: Uint8Array, want: number, argument: string, what: string): Uint8Array {
  if (bytes.byteLength !== want) {
    throw new InputError(argument, `${want} bytes (${what})`, `${bytes.byteLength} bytes`);
  }
  return bytes;
}

function checkBoxes(b: Float32Array, w: number, h: number, argument: string): void {
  for (let i = 0; i < b.length; i += 4) {
    const [x1, y1, x2, y2] = [b[i], b[i + 1], b[i + 2], b[i + 3]];
    const box = `box ${i / 4} = [${x1}, ${y1}, ${x2}, ${y2}]`;
    if (![x1, y1, x2, y2].every(Number.isFinite))
      throw new InputError(argument, 'finite coordinates', box);
    if (x1 < 0 || y1 < 0) throw new InputError(argument, 'non-negative coordinates', box);
    if (x1 > x2 || y1 > y2) throw new InputError(argument, 'x1 <= x2 and y1 <= y2', box);
    if (x2 > w || y2 > h) {
      throw new InputError(argument, `boxes inside the ${w}x${h} (w x h) image`, box);
    }
  }
}

/** Parse one line (without or with its `\n` / `\r\n`). */
export function parseObj36Line(line: string, options: ParseObj36Options = {}): Obj36Image {
  let pre = options.where ? `${options.where}: ` : '';
  if (typeof line !== 'string') throw new InputError(`${pre}line`, 'a string', typeof line);
  let text = line.endsWith('\n') ? line.slice(0, -1) : line;
  if (text.endsWith('\r')) text = text.slice(0, -1);
  const f = text.split('\t');
  if (f.length !== OBJ36_FIELDS.length) {
    throw new InputError(
      `${pre}fields`,
      `${OBJ36_FIELDS.length} tab-separated fields (${OBJ36_FIELDS.join(', ')})`,
      `${f.length} field${f.length === 1 ? '' : 's'}`,
    );
  }
  const imgId = f[0];
  if (imgId.length === 0) throw new InputError(`${pre}img_id`, 'a non-empty id', 'an empty field');
  pre = `${pre}${imgId}: `;
  const imgH = positiveInt(f[1], `${pre}img_h`);
  const imgW = positiveInt(f[2], `${pre}img_w`);
  const n = positiveInt(f[7], `${pre}num_boxes`);
  const maxRegions = limits().maxRegions;
  if (n > maxRegions) {
    throw new InputError(
      `${pre}num_boxes`,
      `at most ${maxRegions} regions (limit maxRegions, see SECURITY.md)`,
      String(n),
    );
  }
  const bytes = (i: number) => decodeBase64(f[i], `${pre}${OBJ36_FIELDS[i]}`);
  const objIdBytes = sized(bytes(3), n * 8, `${pre}objects_id`, `int64 x num_boxes ${n}`);
  const objConfBytes = sized(bytes(4), n * 4, `${pre}objects_conf`, `float32 x num_boxes ${n}`);
  const attrIdBytes = sized(bytes(5), n * 8, `${pre}attrs_id`, `int64 x num_boxes ${n}`);
  const attrConfBytes = sized(bytes(6), n * 4, `${pre}attrs_conf`, `float32 x num_boxes ${n}`);
  const boxBytes = sized(bytes(8), n * 16, `${pre}boxes`, `float32 x num_boxes ${n} x 4`);
  const featBytes = bytes(9);
  const featureDim = featBytes.byteLength / 4 / n;
  if (!Number.isInteger(featureDim) || featureDim === 0) {
    throw new InputError(
      `${pre}features`,
      `float32 x num_boxes ${n} x width: a positive multiple of ${n * 4} bytes`,
      `${featBytes.byteLength} bytes`,
    );
  }
  const boxes = float32LE(boxBytes);
  checkBoxes(boxes, imgW, imgH, `${pre}boxes`);
  const features = float32LE(featBytes);
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i])) {
      const where = `box ${Math.floor(i / featureDim)}, column ${i % featureDim}`;
      throw new InputError(`${pre}features`, 'finite values', `${features[i]} at ${where}`);
    }
  }
  return {
    imgId,
    imgH,
    imgW,
    objectsId: int64LEToInt32(objIdBytes, `${pre}objects_id`),
    objectsConf: float32LE(objConfBytes),
    attrsId: int64LEToInt32(attrIdBytes, `${pre}attrs_id`),
    attrsConf: float32LE(attrConfBytes),
    numBoxes: n,
    boxes,
    features,
    featureDim,
  };
}

/** A line of an obj36 file: its image id and text, not decoded yet. */
export interface Obj36LineRef {
  imgId: string;
  /** 1-based line number. */
  lineNumber: number;
  /** The line without its line end. */
  text: string;
}

/**
 * Split an obj36 file into lines and read only their image ids (cheap: nothing is decoded).
 * Empty lines are skipped; a repeated image id is an InputError.
 */
export function indexObj36Tsv(text: string, source = 'obj36'): Obj36LineRef[] {
  if (typeof text !== 'string') throw new InputError(source, 'the text of a .tsv', typeof text);
  const out: Obj36LineRef[] = [];
  const seen = new Map<string, number>();
  let start = 0;
  for (let lineNumber = 1; start < text.length; lineNumber++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end > start && text[end - 1] === '\r' ? end - 1 : end);
    start = end + 1;
    if (line.length === 0) continue;
    const tab = line.indexOf('\t');
    const imgId = tab < 0 ? line : line.slice(0, tab);
    const first = seen.get(imgId);
    if (first !== undefined) {
      throw new InputError(
        `${source} line ${lineNumber}: img_id`,
        'an id not used by an earlier line',
        `'${imgId}', already on line ${first}`,
      );
    }
    seen.set(imgId, lineNumber);
    out.push({ imgId, lineNumber, text: line });
  }
  return out;
}

/** Parse a whole obj36 file (`\n` or `\r\n` line ends; empty lines skipped). */
export function parseObj36Tsv(text: string, source = 'obj36'): Obj36Image[] {
  return indexObj36Tsv(text, source).map((r) =>
    parseObj36Line(r.text, { where: `${source} line ${r.lineNumber}` }),
  );
}

/**
 * Pixel boxes → the model's `visual_pos`: x1, x2 divided by the width, y1, y2 by the height,
 * in float32 (each quotient rounded to float32 exactly as numpy's float32 division).
 */
export function normalizeBoxes(boxes: Float32Array, imgW: number, imgH: number): Float32Array {
  if (!(boxes instanceof Float32Array) || boxes.length % 4 !== 0) {
    throw new InputError(
      'boxes',
      'a Float32Array of x1, y1, x2, y2 per box',
      boxes instanceof Float32Array ? `${boxes.length} values` : typeof boxes,
    );
  }
  for (const [name, v] of [
    ['imgW', imgW],
    ['imgH', imgH],
  ] as const) {
    if (!(Number.isFinite(v) && v > 0)) throw new InputError(name, 'a positive number', String(v));
  }
  // float32 operands, so the double quotient rounded once to float32 is the float32 quotient.
  const w = Math.fround(imgW);
  const h = Math.fround(imgH);
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = Math.fround(boxes[i] / w);
    out[i + 1] = Math.fround(boxes[i + 1] / h);
    out[i + 2] = Math.fround(boxes[i + 2] / w);
    out[i + 3] = Math.fround(boxes[i + 3] / h);
  }
  return out;
}

/** An image's model inputs: features as they are, boxes normalized. */
export function obj36VisualInput(img: Obj36Image): VisualInput {
  return {
    features: img.features,
    boxes: normalizeBoxes(img.boxes, img.imgW, img.imgH),
    numBoxes: img.numBoxes,
  };
}
