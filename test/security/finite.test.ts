/**
 * Class 4 of issue 12: non-finite weights. NaN/Inf in a checkpoint and float64 values that
 * overflow float32 are refused by the converter and the checkpoint loader, naming the tensor;
 * float16 saturation is reported; `infer` never exits 0 with non-finite outputs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WeightsError } from '../../src/errors.js';
import { caseNames } from '../../src/cli/inputs_file.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import type { RawTensor } from '../../src/codec/raw_tensor.js';
import { readSafetensors, writeSafetensors } from '../../src/weights/safetensors.js';
import { expectOneLineError, lxmert } from '../helpers/cli.js';
import { copyOf, tempDir, thrown, TINY } from './helpers.js';

const tmp = tempDir('sec-finite');
const tiny = readSafetensors(new Uint8Array(readFileSync(join(TINY, 'model.safetensors'))));
const BIAS = 'lxmert.pooler.dense.bias';
let n = 0;

/** A copy of the tiny checkpoint with one tensor replaced. */
function withTensor(name: string, t: RawTensor): string {
  const dir = copyOf(TINY, ['config.json'], join(tmp, `ckpt-${n++}`));
  const all = new Map(tiny);
  all.set(name, t);
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(all, { format: 'pt' }));
  return dir;
}

function f32With(name: string, at: number, v: number): RawTensor {
  const src = tiny.get(name)!;
  const f = new Float32Array(src.bytes.slice().buffer);
  f[at] = v;
  return { dtype: 'F32', shape: src.shape, bytes: new Uint8Array(f.buffer) };
}

describe('non-finite weights are refused, naming the tensor', () => {
  for (const v of [NaN, Infinity, -Infinity]) {
    it(`${v} in a float32 tensor: convert and loadCheckpoint`, async () => {
      const dir = withTensor(BIAS, f32With(BIAS, 3, v));
      const out = join(tmp, `out-${n++}`);
      const err = await thrown(() => convertCheckpoint(dir, out));
      expect(err).toBeInstanceOf(WeightsError);
      expect(err.message).toMatch(
        new RegExp(`tensor '${BIAS.replace(/\./g, '\\.')}': ${v} at element 3`),
      );
      expect(existsSync(out)).toBe(false);
      await expect(loadCheckpoint(dir)).rejects.toThrow(/weights must be finite/);
    });
  }

  it('a float64 value beyond float32 range is refused as an overflow', async () => {
    const src = tiny.get(BIAS)!;
    const f = new Float32Array(src.bytes.slice().buffer);
    const d = Float64Array.from(f);
    d[0] = 1e300;
    const dir = withTensor(BIAS, {
      dtype: 'F64',
      shape: src.shape,
      bytes: new Uint8Array(d.buffer),
    });
    const err = await thrown(() => convertCheckpoint(dir, join(tmp, `out-${n++}`)));
    expect(err.message).toMatch(/float64 value 1e\+300 at element 0 overflows float32/);
  });

  it('float16 saturation is allowed and reported (CLI: a warning line)', async () => {
    const dir = withTensor(BIAS, f32With(BIAS, 0, 1e6));
    const r = await convertCheckpoint(dir, join(tmp, `out-${n++}`), { dtype: 'float16' });
    expect(r.warnings).toEqual([
      expect.stringMatching(/pooler\.dense\.bias: 1 value\(s\) beyond float16's range saturated/),
    ]);
    const cli = lxmert(['convert', dir, join(tmp, `out-${n++}`), '--dtype', 'float16']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stderr).toMatch(/lxmert convert: warning: .*saturated to ±65504/);
  });
});

describe('infer never exits 0 with non-finite outputs', () => {
  it('finite but huge weights that overflow at run time: one-line error, nothing written', () => {
    const name = 'lxmert.embeddings.LayerNorm.weight';
    const src = tiny.get(name)!;
    const huge = new Float32Array(src.bytes.byteLength / 4).fill(3e38); // finite: loads
    const model = withTensor(name, { ...src, bytes: new Uint8Array(huge.buffer) });
    const golden = readSafetensors(new Uint8Array(readFileSync(join(TINY, 'golden.safetensors'))));
    const c = caseNames(golden)[0];
    const args = ['input_ids', 'attention_mask', 'token_type_ids', 'visual_feats', 'visual_pos'];
    const inputs = new Map<string, RawTensor>();
    for (const a of args) if (golden.has(`${c}/${a}`)) inputs.set(a, golden.get(`${c}/${a}`)!);
    const file = join(tmp, 'huge.safetensors');
    writeFileSync(file, writeSafetensors(inputs));
    const out = join(tmp, 'never.safetensors');
    const r = lxmert(['infer', '--model', model, '--inputs', file, '--output', out]);
    expect(expectOneLineError(r)).toMatch(
      /WeightsError: .*output '.*' holds (NaN|-?Infinity) at element \d+/,
    );
    expect(existsSync(out)).toBe(false);
  });
});
