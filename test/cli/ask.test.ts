/**
 * `lxmert ask`: a PNG and questions → answers, the same as the model fed the detector's output
 * through the obj36 path in this process; --json lines; bad input as one stderr line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectionsToObj36 } from '../../src/cli/detect.js';
import { readImageFile } from '../../src/features/image_node.js';
import { obj36VisualInput, parseObj36Line } from '../../src/features/obj36.js';
import { LxmertVqa } from '../../src/app/lxmert_vqa.js';
import '../../src/node.js';
import type { VqaResult } from '../../src/pipeline/vqa.js';
import { useBackend } from '../helpers/backends.js';
import { expectOneLineError, lxmert } from '../helpers/cli.js';
import { NARROW } from '../helpers/frcnn_match.js';
import { writeVqaNarrow } from '../helpers/vqa_narrow.js';

const QUESTIONS = ['What color is the cat?', 'Is there a dog in the picture?'];
const tmp = mkdtempSync(join(tmpdir(), 'lxmert-ask-'));
const model = writeVqaNarrow(join(tmp, 'vqa'));
const image = join(NARROW, 'img_b.png');
let reference: VqaResult[];

beforeAll(async () => {
  await useBackend('wasm');
  const vqa = await LxmertVqa.load({ model, detector: NARROW, backend: 'wasm', worker: false });
  const pipeline = vqa.pipeline;
  try {
    const d = await pipeline.detector!.detect(await readImageFile(image));
    const regions = obj36VisualInput(parseObj36Line(detectionsToObj36(d, 'img_b')));
    reference = await pipeline.answer(QUESTIONS, regions, { topK: 3 });
  } finally {
    vqa.dispose();
  }
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lxmert ask', () => {
  it('--json: one line per question with the answers of the obj36 path', () => {
    const r = lxmert(
      [
        'ask',
        '--model',
        model,
        '--detector',
        NARROW,
        '--image',
        image,
        '--backend',
        'wasm',
        '--top-k',
        '3',
        '--json',
        ...QUESTIONS,
      ],
      undefined,
      180_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            question: string;
            answers: { answer: string; score: number; labelId: number }[];
          },
      );
    expect(lines.map((l) => l.question)).toEqual(QUESTIONS);
    lines.forEach((l, q) => {
      expect(l.answers.map((a) => [a.labelId, a.answer])).toEqual(
        reference[q].answers.map((a) => [a.labelId, a.answer]),
      );
      l.answers.forEach((a, k) =>
        expect(Math.abs(a.score - reference[q].answers[k].score)).toBeLessThanOrEqual(1e-4),
      );
    });
  }, 180_000);

  it('bad input: one line, before any weights are loaded', () => {
    const notImage = join(tmp, 'x.jpg');
    writeFileSync(notImage, 'GIF89a');
    const base = ['ask', '--model', model, '--detector', NARROW, '--backend', 'cpu'];
    expect(expectOneLineError(lxmert([...base, '--image', notImage, 'q?']))).toMatch(
      /ImageError: .*x\.jpg: expected a PNG or JPEG image/,
    );
    expect(expectOneLineError(lxmert([...base, '--image', image]))).toMatch(
      /expected a non-empty "QUESTION"/,
    );
    expect(expectOneLineError(lxmert(['ask', '--model', model, '--image', image, 'q?']))).toMatch(
      /--detector is required/,
    );
    expect(expectOneLineError(lxmert([...base, '--image', image, '--top-k', '0', 'q?']))).toMatch(
      /--top-k: expected a positive integer/,
    );
  });
});
