/** `lxmert infer`: golden parity through the CLI, input formats, and one-line errors. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toFloat32, toInt32 } from '../../src/codec/raw_tensor.js';
import { readSafetensors, writeSafetensors } from '../../src/weights/safetensors.js';
import { expectOneLineError, lxmert } from '../helpers/cli.js';
import { diff, FIXTURES, loadGolden } from '../helpers/golden.js';

const tmp = mkdtempSync(join(tmpdir(), 'lxmert-infer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lxmert infer', () => {
  const g = loadGolden('lxmert-tiny-sharp');
  const model = join(FIXTURES, 'lxmert-tiny-sharp');
  const goldens = join(model, 'golden.safetensors');
  /** `lxmert infer`, by default of the fixture's model on its golden inputs. */
  const infer = (o: {
    output: string;
    case?: string;
    model?: string;
    inputs?: string;
    backend?: string;
  }) =>
    lxmert([
      'infer',
      ...['--model', o.model ?? model, '--inputs', o.inputs ?? goldens],
      ...(o.case ? ['--case', o.case] : []),
      ...['--output', o.output],
      ...(o.backend ? ['--backend', o.backend] : []),
    ]);

  // WebGPU: float32 rel_l2 ≤ 1e-4 (issue 5), here Dawn over SwiftShader.
  const relL2: Record<string, number> = {
    cpu: g.tolerance.rel_l2,
    wasm: g.tolerance.rel_l2,
    webgpu: 1e-4,
  };
  it.each(['cpu', 'wasm', 'webgpu'])(
    'writes every output within tolerance (%s, case b3_padded)',
    (backend) => {
      const out = join(tmp, `out-${backend}.safetensors`);
      const r = infer({ case: 'b3_padded', output: out, backend });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`(backend ${backend})`); // no silent fallback
      const got = readSafetensors(new Uint8Array(readFileSync(out)));
      const c = g.cases.find((x) => x.name === 'b3_padded')!;
      for (const o of c.outputs) {
        const name = o.tensor.slice(c.name.length + 1);
        const t = got.get(name);
        expect(t, name).toBeDefined();
        expect(t!.dtype).toBe('F32');
        expect(t!.shape).toEqual(o.shape);
        const d = diff(toFloat32(t!), toFloat32(g.tensors.get(o.tensor)!));
        expect(d.maxAbs, name).toBeLessThanOrEqual(g.tolerance.max_abs);
        expect(d.relL2, name).toBeLessThanOrEqual(relL2[backend]);
      }
    },
  );

  it('accepts I32 ids and unprefixed names', () => {
    const src = g.tensors;
    const ins = new Map();
    for (const arg of ['input_ids', 'attention_mask', 'token_type_ids']) {
      const t = src.get(`b3_padded/${arg}`)!;
      const v = toInt32(t);
      ins.set(arg, { dtype: 'I32', shape: t.shape, bytes: new Uint8Array(v.buffer) });
    }
    for (const arg of ['visual_feats', 'visual_pos', 'visual_attention_mask'])
      ins.set(arg, src.get(`b3_padded/${arg}`)!);
    const inPath = join(tmp, 'in32.safetensors');
    writeFileSync(inPath, writeSafetensors(ins));
    const out = join(tmp, 'out32.safetensors');
    const r = infer({ inputs: inPath, output: out });
    expect(r.code, r.stderr).toBe(0);
    const got = readSafetensors(new Uint8Array(readFileSync(out))).get('question_answering_score')!;
    const d = diff(toFloat32(got), toFloat32(src.get('b3_padded/question_answering_score')!));
    expect(d.maxAbs).toBeLessThanOrEqual(g.tolerance.max_abs);
  });

  it('names the cases when --case is missing', () => {
    const out = join(tmp, 'none.safetensors');
    const line = expectOneLineError(infer({ output: out }));
    expect(line).toMatch(
      /InputError: input_ids: expected a tensor in .*got nothing \(the file holds cases: b1_nomask, b2_36box, b3_padded; pass --case\)/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('rejects an unknown case', () => {
    const line = expectOneLineError(infer({ case: 'nope', output: join(tmp, 'x') }));
    expect(line).toMatch(/--case: expected one of: b1_nomask, b2_36box, b3_padded, got 'nope'/);
  });

  it('usage errors exit 2 with one line', () => {
    const r = lxmert(['infer', '--inputs', goldens]);
    expect(r.code).toBe(2);
    expect(expectOneLineError(r)).toMatch(/--model is required/);
    expect(expectOneLineError(lxmert(['infer', '--bogus']))).toMatch(/Unknown option '--bogus'/);
  });

  it('rejects a missing model folder and a corrupt inputs file', () => {
    expect(
      expectOneLineError(
        infer({ model: join(tmp, 'nope'), case: 'b1_nomask', output: join(tmp, 'y') }),
      ),
    ).toMatch(/WeightsError/);
    const junk = join(tmp, 'junk.safetensors');
    writeFileSync(junk, Buffer.from('not a safetensors file at all'));
    expect(expectOneLineError(infer({ inputs: junk, output: join(tmp, 'z') }))).toMatch(
      /header length \d+ runs past the end of the file/,
    );
  });

  it('checks the output folder before any work, and writes nothing', () => {
    const out = join(tmp, 'no-such-folder', 'out.safetensors');
    const line = expectOneLineError(infer({ case: 'b1_nomask', output: out }));
    expect(line).toMatch(
      /InputError: --output: expected a path in an existing folder, got .*is missing/,
    );
    expect(existsSync(join(tmp, 'no-such-folder'))).toBe(false);
  });

  it('prints help', () => {
    const r = lxmert(['infer', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: lxmert infer --model DIR --inputs IN.safetensors/);
  });
});
