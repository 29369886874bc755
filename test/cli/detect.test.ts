/**
 * `lxmert detect`: outputs named, typed and shaped as frcnn-narrow's cases.json, matching the
 * goldens end to end (README B: as sets, its tolerances) from the HF folder in float32 and from a
 * float16 conversion (the same 36 boxes and ids); --tsv lines that our obj36 reader reads back;
 * bad input as one stderr line with nothing written.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseObj36Tsv } from '../../src/features/obj36.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { toFloat32, toInt32, type RawTensor } from '../../src/codec/raw_tensor.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { expectOneLineError, lxmert } from '../helpers/cli.js';
import { compareEndToEnd, expectWithinEndToEnd, NARROW } from '../helpers/frcnn_match.js';

const IMAGES = ['img_a', 'img_b'] as const;
const OUTPUTS = [
  'image_size',
  'raw_size',
  'scales_yx',
  'boxes',
  'obj_ids',
  'obj_probs',
  'attr_ids',
  'attr_probs',
  'roi_features',
  'normalized_boxes',
  'proposals',
  'proposal_logits',
];
const tmp = mkdtempSync(join(tmpdir(), 'lxmert-detect-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface CaseTensor {
  name: string;
  dtype: string;
  shape: number[];
}
const cases = JSON.parse(readFileSync(join(NARROW, 'cases.json'), 'utf8')) as {
  cases: { name: string; tensors: CaseTensor[] }[];
  tolerance: { end_to_end: { normalized_boxes_max_abs: number } };
};

function detections(t: Map<string, RawTensor>, image: string) {
  const get = (n: string) => t.get(`${image}/${n}`)!;
  return {
    boxes: toFloat32(get('boxes')),
    normalizedBoxes: toFloat32(get('normalized_boxes')),
    objIds: toInt32(get('obj_ids')),
    objProbs: toFloat32(get('obj_probs')),
    attrIds: toInt32(get('attr_ids')),
    attrProbs: toFloat32(get('attr_probs')),
    roiFeatures: toFloat32(get('roi_features')),
    featureDim: get('roi_features').shape[2],
    proposals: toFloat32(get('proposals')),
  };
}

function runDetect(detector: string, name: string, extra: string[] = []) {
  const out = join(tmp, `${name}.safetensors`);
  const r = lxmert(
    [
      'detect',
      '--detector',
      detector,
      '--output',
      out,
      '--backend',
      'wasm',
      ...extra,
      ...IMAGES.map((i) => join(NARROW, `${i}.png`)),
    ],
    undefined,
    300_000,
  );
  expect(r.code, r.stderr).toBe(0);
  return readSafetensors(new Uint8Array(readFileSync(out)));
}

describe('lxmert detect', () => {
  let f32: Map<string, RawTensor>;
  beforeAll(() => {
    f32 = runDetect(NARROW, 'f32', ['--tsv', join(tmp, 'f32.tsv')]);
  }, 300_000);

  it('writes every output named, typed and shaped as the goldens (ids as I64)', () => {
    for (const c of cases.cases) {
      for (const name of OUTPUTS) {
        const want = c.tensors.find((t) => t.name === name)!;
        const got = f32.get(`${c.name}/${name}`);
        expect(got, `${c.name}/${name}`).toBeDefined();
        expect([got!.dtype, got!.shape], `${c.name}/${name}`).toEqual([want.dtype, want.shape]);
      }
      expect(f32.get(`${c.name}/visual_attention_mask`)!.shape).toEqual([1, 36]);
    }
  });

  it('matches the goldens end to end (float32, wasm): 300 proposals, the final 36 as sets', () => {
    for (const image of IMAGES) {
      const sizes = ['image_size', 'raw_size'].map((n) =>
        Array.from(toInt32(f32.get(`${image}/${n}`)!)),
      );
      const c = cases.cases.find((x) => x.name === image) as unknown as {
        raw_size_hw: number[];
        resized_size_hw: number[];
      };
      expect(sizes).toEqual([c.resized_size_hw, c.raw_size_hw]);
      expectWithinEndToEnd(
        cases.tolerance.end_to_end.normalized_boxes_max_abs, // README B: 1e-5
        compareEndToEnd(image, detections(f32, image)),
        expect,
        image,
      );
    }
  });

  it('--tsv writes obj36 lines that parseObj36Tsv reads back as the same detections', () => {
    const lines = parseObj36Tsv(readFileSync(join(tmp, 'f32.tsv'), 'utf8'));
    expect(lines.map((l) => l.imgId)).toEqual([...IMAGES]);
    for (const l of lines) {
      const d = detections(f32, l.imgId);
      const raw = Array.from(toInt32(f32.get(`${l.imgId}/raw_size`)!));
      expect([l.imgH, l.imgW, l.numBoxes, l.featureDim]).toEqual([...raw, 36, 64]);
      expect(Array.from(l.objectsId)).toEqual(Array.from(d.objIds));
      expect(Array.from(l.attrsId)).toEqual(Array.from(d.attrIds));
      expect(Buffer.from(l.features.buffer).equals(Buffer.from(d.roiFeatures.buffer))).toBe(true);
      expect(Array.from(l.objectsConf)).toEqual(Array.from(d.objProbs));
      // Boxes as written, except an edge past the image by float32 rounding, clamped onto it.
      const worst = l.boxes.reduce((m, v, i) => Math.max(m, Math.abs(v - d.boxes[i])), 0);
      expect(worst).toBeLessThanOrEqual(1e-3);
    }
  });

  it('a float16 conversion keeps the goldens’ 36 boxes and ids', async () => {
    const dir = join(tmp, 'narrow-f16');
    await convertCheckpoint(NARROW, dir, { dtype: 'float16' });
    const f16 = runDetect(dir, 'f16');
    for (const image of IMAGES) {
      const r = compareEndToEnd(image, detections(f16, image));
      expect(r.matched, image).toBe(36);
      expect(r.idMismatches, image).toBe(0);
      expect(r.boxMaxAbs, image).toBeLessThan(0.05); // measured 0.022 px (img_a)
    }
  }, 300_000);
});

describe('lxmert detect: bad input', () => {
  const out = join(tmp, 'bad.safetensors');

  it('not an image, a truncated PNG, an image over --max-pixels: one line, nothing written', () => {
    const text = join(tmp, 'notes.png');
    writeFileSync(text, 'just some text\n');
    const png = readFileSync(join(NARROW, 'img_a.png'));
    const cut = join(tmp, 'cut.png');
    writeFileSync(cut, png.subarray(0, png.length >> 1));
    const base = ['detect', '--detector', NARROW, '--output', out, '--backend', 'cpu'];
    expect(expectOneLineError(lxmert([...base, text]))).toMatch(
      /ImageError: .*notes\.png: expected a PNG or JPEG image, got 15 bytes starting 6a 75/,
    );
    expect(expectOneLineError(lxmert([...base, cut]))).toMatch(
      /ImageError: .*cut\.png: expected a complete, valid PNG/,
    );
    expect(
      expectOneLineError(lxmert([...base, '--max-pixels', '1000', join(NARROW, 'img_b.png')])),
    ).toMatch(/img_b\.png: expected at most 1000 pixels .*got 150x310 = 46500 pixels/);
    expect(existsSync(out)).toBe(false);
  });

  it('usage errors', () => {
    const img = join(NARROW, 'img_a.png');
    const cpu = ['--backend', 'cpu'];
    expect(expectOneLineError(lxmert(['detect', ...cpu, '--output', out, img]))).toMatch(
      /--detector is required/,
    );
    expect(
      expectOneLineError(lxmert(['detect', ...cpu, '--detector', NARROW, '--output', out])),
    ).toMatch(/at least one IMAGE/);
    expect(
      expectOneLineError(
        lxmert([
          'detect',
          ...cpu,
          '--detector',
          NARROW,
          '--output',
          out,
          img,
          join(tmp, 'img_a.jpg'),
        ]),
      ),
    ).toMatch(/same name 'img_a'/);
    expect(
      expectOneLineError(
        lxmert(['detect', ...cpu, '--detector', NARROW, '--output', join(tmp, 'no', 'x.st'), img]),
      ),
    ).toMatch(/--output: expected a path in an existing folder/);
    expect(
      expectOneLineError(
        lxmert(['detect', ...cpu, '--detector', join(tmp, 'nope'), '--output', out, img]),
      ),
    ).toMatch(/WeightsError: .*nope: no such folder/);
    expect(existsSync(out)).toBe(false);
  });
});
