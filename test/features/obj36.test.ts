/** The obj36 .tsv reader, box normalization and feature validation, good and bad input. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  indexObj36Tsv,
  normalizeBoxes,
  obj36VisualInput,
  parseObj36Line,
  parseObj36Tsv,
  validateFeatures,
} from '../../src/features/obj36.js';
import { toFloat32 } from '../../src/codec/raw_tensor.js';
import { FIXTURES, loadGolden } from '../helpers/golden.js';

const TSV = readFileSync(join(FIXTURES, 'lxmert-vqa-tiny', 'features.tsv'), 'utf8');
const LINE1 = TSV.split('\n')[0];
const FIELDS = LINE1.split('\t');

const b64 = (a: ArrayBufferView) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const floats = (i: number) =>
  new Float32Array(new Uint8Array(Buffer.from(FIELDS[i], 'base64')).buffer);

/** Line 1 with some fields replaced (by index). */
function line(changes: Record<number, string>, fields = FIELDS): string {
  return fields.map((f, i) => changes[i] ?? f).join('\t');
}

/** The InputError that `fn` throws. */
function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('no error thrown');
}

describe('parseObj36Tsv', () => {
  it('reads the fixture: 2 images of 36 boxes x 2048 features', () => {
    const imgs = parseObj36Tsv(TSV);
    expect(imgs.map((i) => [i.imgId, i.imgW, i.imgH, i.numBoxes, i.featureDim])).toEqual([
      ['demo_000001', 640, 480, 36, 2048],
      ['demo_000002', 500, 375, 36, 2048],
    ]);
    for (const i of imgs) {
      expect(i.boxes).toHaveLength(36 * 4);
      expect(i.features).toHaveLength(36 * 2048);
      expect(i.objectsId).toBeInstanceOf(Int32Array);
      expect(Math.max(...i.objectsId)).toBeLessThan(1600);
      expect(Math.min(...i.objectsId)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...i.attrsId)).toBeLessThan(400);
      expect(i.objectsConf).toHaveLength(36);
      expect(i.attrsConf).toHaveLength(36);
    }
  });

  it('accepts \\r\\n line ends, a missing last line end and blank lines', () => {
    const a = parseObj36Tsv(TSV);
    const crlf = parseObj36Tsv(TSV.replace(/\n/g, '\r\n'));
    const loose = parseObj36Tsv('\n' + TSV.trimEnd() + '\n\n');
    for (const other of [crlf, loose]) {
      expect(other.map((i) => i.imgId)).toEqual(a.map((i) => i.imgId));
      expect(other[1].features).toEqual(a[1].features);
      expect(other[1].boxes).toEqual(a[1].boxes);
    }
    expect(parseObj36Line(LINE1 + '\r\n').imgId).toBe('demo_000001');
  });

  it('indexes ids without decoding and refuses a repeated id', () => {
    expect(indexObj36Tsv(TSV).map((r) => [r.imgId, r.lineNumber])).toEqual([
      ['demo_000001', 1],
      ['demo_000002', 2],
    ]);
    const e = inputError(() => indexObj36Tsv(`${LINE1}\n\n${LINE1}\n`, 'f.tsv'));
    expect(e.argument).toBe('f.tsv line 3: img_id');
    expect(e.actual).toContain('already on line 1');
  });

  it('normalizeBoxes is bit-identical to numpy float32 division (the golden visual_pos)', () => {
    const g = loadGolden('lxmert-vqa-tiny');
    const [img1, img2] = parseObj36Tsv(TSV);
    const want1 = toFloat32(g.tensors.get('img1_q1/visual_pos')!);
    const want2 = toFloat32(g.tensors.get('img2_q1/visual_pos')!);
    const u32 = (f: Float32Array) => Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));
    expect(u32(normalizeBoxes(img1.boxes, img1.imgW, img1.imgH))).toEqual(u32(want1));
    expect(u32(obj36VisualInput(img2).boxes)).toEqual(u32(want2));
    // x by width, y by height
    expect(Array.from(normalizeBoxes(new Float32Array([1, 1, 3, 3]), 3, 7))).toEqual([
      Math.fround(1 / 3),
      Math.fround(1 / 7),
      1,
      Math.fround(3 / 7),
    ]);
    expect(inputError(() => normalizeBoxes(new Float32Array(3), 1, 1)).argument).toBe('boxes');
    expect(inputError(() => normalizeBoxes(new Float32Array(4), 0, 1)).argument).toBe('imgW');
  });
});

describe('parseObj36Line: bad input', () => {
  const boxes = floats(8);
  const withBox = (i: number, v: number) => {
    const b = boxes.slice();
    b[i] = v;
    return line({ 8: b64(b) });
  };
  const cases: [string, string, string, RegExp, RegExp][] = [
    ['9 fields', FIELDS.slice(0, 9).join('\t'), 'fields', /10 tab-separated/, /^9 fields$/],
    ['11 fields', LINE1 + '\tx', 'fields', /10/, /11 fields/],
    ['empty img_id', line({ 0: '' }), 'img_id', /non-empty/, /empty/],
    ['img_h not a number', line({ 1: '48o' }), 'demo_000001: img_h', /positive/, /48o/],
    ['img_w zero', line({ 2: '0' }), 'demo_000001: img_w', /positive/, /'0'/],
    ['num_boxes negative', line({ 7: '-36' }), 'demo_000001: num_boxes', /positive/, /-36/],
    [
      'bad base64 char',
      line({ 8: '*' + FIELDS[8].slice(1) }),
      'demo_000001: boxes',
      /base64/,
      /'\*' at offset 0/,
    ],
    [
      'base64 length',
      line({ 5: FIELDS[5].slice(0, -1) }),
      'demo_000001: attrs_id',
      /multiple of 4/,
      /characters/,
    ],
    ['num_boxes ≠ boxes', line({ 7: '35' }), 'demo_000001: objects_id', /280 bytes/, /288 bytes/],
    [
      'short objects_conf',
      line({ 4: b64(floats(4).slice(0, 35)) }),
      'demo_000001: objects_conf',
      /144 bytes/,
      /140 bytes/,
    ],
    [
      'short boxes',
      line({ 8: b64(boxes.slice(0, 140)) }),
      'demo_000001: boxes',
      /576 bytes/,
      /560 bytes/,
    ],
    [
      'features width not whole',
      line({ 9: b64(floats(9).slice(0, 36 * 2048 - 1)) }),
      'demo_000001: features',
      /multiple of 144 bytes/,
      /294908 bytes/,
    ],
    ['no features', line({ 9: '' }), 'demo_000001: features', /positive multiple/, /^0 bytes/],
    [
      'NaN feature',
      line({ 9: b64(floats(9).map((v, i) => (i === 2049 ? NaN : v))) }),
      'demo_000001: features',
      /finite/,
      /NaN at box 1, column 1/,
    ],
    ['negative box', withBox(5, -1), 'demo_000001: boxes', /non-negative/, /box 1 = /],
    ['infinite box', withBox(2, Infinity), 'demo_000001: boxes', /finite/, /Infinity/],
    ['x1 > x2', withBox(0, 639), 'demo_000001: boxes', /x1 <= x2/, /box 0 = \[639/],
    ['box past the width', withBox(6, 640.5), 'demo_000001: boxes', /inside the 640x480/, /640\.5/],
    ['box past the height', withBox(7, 481), 'demo_000001: boxes', /inside the 640x480/, /481/],
    [
      'int64 beyond int32',
      line({ 3: b64(new BigInt64Array(36).fill(1n << 40n)) }),
      'demo_000001: objects_id',
      /int32/,
      /1099511627776 at index 0/,
    ],
  ];
  it.each(cases)('%s', (_, text, argument, expected, actual) => {
    const e = inputError(() => parseObj36Line(text));
    expect(e.argument).toBe(argument);
    expect(e.expected).toMatch(expected);
    expect(e.actual).toMatch(actual);
  });

  it('names the file and line in parseObj36Tsv', () => {
    const text = `${LINE1}\n${line({ 2: 'x' }, TSV.split('\n')[1].split('\t'))}\n`;
    expect(inputError(() => parseObj36Tsv(text, 'val.tsv')).argument).toBe(
      'val.tsv line 2: demo_000002: img_w',
    );
    expect(inputError(() => parseObj36Line(42 as unknown as string)).argument).toBe('line');
  });
});

describe('validateFeatures', () => {
  const img = obj36VisualInput(parseObj36Tsv(TSV)[0]);
  it('returns the feature width of good input', () => {
    expect(validateFeatures(img)).toBe(2048);
    expect(validateFeatures(img, { featureDim: 2048 })).toBe(2048);
  });
  const bad: [string, () => unknown, string, RegExp][] = [
    ['not an object', () => validateFeatures(null as never), 'image', /object/],
    ['numBoxes 0', () => validateFeatures({ ...img, numBoxes: 0 }), 'image.numBoxes', /positive/],
    [
      'features as Array',
      () => validateFeatures({ ...img, features: [1] as never }),
      'image.features',
      /Float32Array/,
    ],
    [
      'boxes as Float64Array',
      () => validateFeatures({ ...img, boxes: new Float64Array(144) as never }),
      'image.boxes',
      /Float32Array/,
    ],
    [
      'boxes length',
      () => validateFeatures({ ...img, boxes: img.boxes.slice(4) }),
      'image.boxes',
      /144 values/,
    ],
    [
      'width ≠ featureDim',
      () => validateFeatures(img, { featureDim: 1024 }),
      'image.features',
      /36 × 1024/,
    ],
    [
      'ragged features',
      () => validateFeatures({ ...img, features: img.features.slice(1) }),
      'image.features',
      /multiple of numBoxes/,
    ],
    [
      'NaN feature',
      () => validateFeatures({ ...img, features: img.features.map((v, i) => (i === 7 ? NaN : v)) }),
      'image.features',
      /finite/,
    ],
    [
      'pixel boxes',
      () => validateFeatures({ ...img, boxes: img.boxes.map((v) => v * 640) }),
      'image.boxes',
      /normalizeBoxes/,
    ],
    [
      'argument name',
      () => validateFeatures({ ...img, numBoxes: 1.5 }, { argument: 'images[2]' }),
      'images[2].numBoxes',
      /integer/,
    ],
  ];
  it.each(bad)('%s', (_, fn, argument, expected) => {
    const e = inputError(fn);
    expect(e.argument).toBe(argument);
    expect(e.expected).toMatch(expected);
  });
  it('accepts pixel boxes with normalized: false, but not NaN', () => {
    const px = { ...img, boxes: img.boxes.map((v) => v * 640) };
    expect(validateFeatures(px, { normalized: false })).toBe(2048);
    const nan = { ...img, boxes: img.boxes.map((v, i) => (i === 3 ? NaN : v)) };
    expect(inputError(() => validateFeatures(nan, { normalized: false })).actual).toMatch(
      /NaN at index 3 \(box 0\)/,
    );
  });
});
