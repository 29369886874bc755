/** `lxmert bench --detector / --random-detector`: its report, the JSON line, option errors. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, lxmert } from '../helpers/cli.js';
import { NARROW } from '../helpers/frcnn_match.js';

describe('lxmert bench, detector', () => {
  it('times the narrow detector on an image and ends with the JSON line', () => {
    const r = lxmert(
      [
        'bench',
        '--random-detector',
        join(NARROW, 'config.yaml'),
        '--image',
        join(NARROW, 'img_b.png'),
        '--runs',
        '1',
        '--warmup',
        '0',
        '--json',
      ],
      undefined,
      180_000,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/detect: median \d+\.\d ms/);
    const j = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
    expect(j.backend).toBe('wasm');
    expect(j.image_hw).toEqual([310, 150]);
    for (const k of ['median_ms', 'peak_tensor_bytes', 'peak_rss_mib'])
      expect(j[k] as number).toBeGreaterThan(0);
    expect(j.parameter_count).toBe(677554 - 12 * 4); // HF's parameters but the 12 cell anchors (recomputed)
    // Per step: every step listed, the device steps hold tensors, the host steps read back.
    expect(r.stdout).toMatch(/per step \(one detect\):\n {2}preprocess /);
    const steps = j.steps as Record<string, Record<string, number>>;
    expect(Object.keys(steps)).toEqual([
      'preprocess',
      'backbone',
      'rpn',
      'roiPool',
      'res5',
      'heads',
      'nms',
    ]);
    for (const s of ['backbone', 'roiPool', 'res5', 'heads'])
      expect(steps[s].peakTensorBytes, s).toBeGreaterThan(0);
    expect(steps.res5.peakTensorBytes).toBeLessThanOrEqual(j.peak_tensor_bytes as number);
    expect(steps.rpn.readBacks).toBe(2); // logits and deltas
  }, 180_000);

  it('option errors', () => {
    expect(
      expectOneLineError(lxmert(['bench', '--detector', NARROW, '--random-detector', 'full'])),
    ).toMatch(/not both/);
    expect(expectOneLineError(lxmert(['bench', '--random', 'vqa', '--image', 'x.png']))).toMatch(
      /--image needs --detector/,
    );
    expect(expectOneLineError(lxmert(['bench', '--random-detector', 'half']))).toMatch(
      /--random-detector: expected 'full' or a config.yaml path/,
    );
    expect(expectOneLineError(lxmert(['bench', '--random', 'vqa', '--submit-batch', '1']))).toMatch(
      /--submit-batch needs --detector/,
    );
    expect(
      expectOneLineError(lxmert(['bench', '--detector', NARROW, '--submit-batch', '0'])),
    ).toMatch(/submit-batch/);
    expect(expectOneLineError(lxmert(['bench', '--detector', NARROW, '--tokens', '5']))).toMatch(
      /--tokens does not apply/,
    );
  });
});
