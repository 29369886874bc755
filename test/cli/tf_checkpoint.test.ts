/**
 * TF checkpoints through the CLI (needs `npm run build`): `lxmert convert` of a tf_model.h5
 * folder and of a Hub repo with only TF weights (and `--from tf` where it has both), `lxmert
 * infer --model` on a TF folder against lxmert-tiny's goldens, and one-line errors.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFloat32 } from '../../src/codec/raw_tensor.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { expectOneLineError, lxmert, ROOT, type CliResult } from '../helpers/cli.js';
import { diff, loadGolden } from '../helpers/golden.js';
import { startFakeHub, type FakeHub } from '../weights/hub_server.js';
import { FIXTURES, listDir, tempDir } from '../weights/helpers.js';

const tmp = tempDir('cli-tf');

/** The CLI with extra environment variables, asynchronously (the fake Hub runs in-process). */
function runWith(env: Record<string, string>, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'lxmert.js'), ...args],
      { cwd: ROOT, timeout: 120_000, env: { ...process.env, LXMERT_DEBUG: '', ...env } },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
const TF = join(FIXTURES, 'lxmert-tiny-tf');
const TINY = join(FIXTURES, 'lxmert-tiny');

describe('lxmert convert / infer with tf_model.h5', () => {
  it('converts a TF folder and names the class', () => {
    const out = join(tmp, 'out-tf');
    const r = lxmert(['convert', TF, out, '--dtype', 'int8']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*: LxmertForPreTraining, \d+ tensors, int8/);
    const m = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(m.config.architectures).toEqual(['TFLxmertForPreTraining']);
    expect(m.source.files.map((f: { path: string }) => f.path)).toEqual(['tf_model.h5']);
  });

  it('infer --model on the TF folder: every output within the goldens tolerance', () => {
    const g = loadGolden('lxmert-tiny');
    const out = join(tmp, 'infer-tf.safetensors');
    const r = lxmert([
      'infer',
      '--model',
      TF,
      '--inputs',
      join(TINY, 'golden.safetensors'),
      '--case',
      'b3_padded',
      '--output',
      out,
      '--backend',
      'wasm',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const got = readSafetensors(new Uint8Array(readFileSync(out)));
    const c = g.cases.find((x) => x.name === 'b3_padded')!;
    expect(c.outputs.length).toBe(25);
    for (const o of c.outputs) {
      const name = o.tensor.slice(c.name.length + 1);
      const t = got.get(name);
      expect(t, name).toBeDefined();
      const d = diff(toFloat32(t!), toFloat32(g.tensors.get(o.tensor)!));
      expect(d.maxAbs, name).toBeLessThanOrEqual(g.tolerance.max_abs);
      expect(d.relL2, name).toBeLessThanOrEqual(g.tolerance.rel_l2);
    }
  });

  it('bench --model on the TF folder times the VQA path', () => {
    const r = lxmert(['bench', '--model', TF, '--runs', '2', '--warmup', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(last.median_ms).toBeGreaterThan(0);
    expect(last.backend).toBe('wasm');
  });

  it('--from must be pt or tf (usage, exit 2)', () => {
    const r = lxmert(['convert', TF, join(tmp, 'never'), '--from', 'jax']);
    expect(r.code).toBe(2);
    expect(expectOneLineError(r)).toMatch(/--from: expected pt or tf, got 'jax'/);
    expect(existsSync(join(tmp, 'never'))).toBe(false);
  });

  it('a truncated tf_model.h5: one line, exit 1, no OUTDIR', () => {
    const src = join(tmp, 'truncated');
    mkdirSync(src);
    copyFileSync(join(TF, 'config.json'), join(src, 'config.json'));
    writeFileSync(
      join(src, 'tf_model.h5'),
      readFileSync(join(TF, 'tf_model.h5')).subarray(0, 9000),
    );
    const parent = join(tmp, 'trunc-parent');
    mkdirSync(parent);
    const r = lxmert(['convert', src, join(parent, 'out')]);
    expect(r.code).toBe(1);
    expect(expectOneLineError(r)).toMatch(
      /tf_model\.h5: not a readable HDF5 file \(truncated file/,
    );
    expect(listDir(parent)).toEqual([]);
  });
});

describe('Hub repos with TF weights', () => {
  let hub: FakeHub;
  beforeAll(async () => {
    hub = await startFakeHub({
      'unc-nlp/lxmert-tiny-tf': {
        'config.json': join(TF, 'config.json'),
        'tf_model.h5': join(TF, 'tf_model.h5'),
      },
      'unc-nlp/lxmert-tiny-both': {
        'config.json': join(TF, 'config.json'),
        'tf_model.h5': join(TF, 'tf_model.h5'),
        'model.safetensors': join(TINY, 'model.safetensors'),
      },
    });
  });
  afterAll(() => hub.close());
  const env = () => ({ HF_ENDPOINT: hub.endpoint, LXMERT_CACHE: join(tmp, 'cache'), HF_TOKEN: '' });
  const weightFiles = (repo: string) =>
    hub.log
      .filter(
        (l) => l.origin === 'hub' && l.url.includes(repo) && !/config\.json|vocab/.test(l.url),
      )
      .map((l) => l.url.split('/').pop());

  it('a repo with only tf_model.h5 converts without --from', async () => {
    const out = join(tmp, 'hub-tf');
    const r = await runWith(env(), ['convert', 'unc-nlp/lxmert-tiny-tf', out]);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(m.source.kind).toBe('hub');
    expect(m.source.files.map((f: { path: string }) => f.path)).toEqual(['tf_model.h5']);
    // the PyTorch names were asked for first (404), then the TF file
    expect(weightFiles('lxmert-tiny-tf')).toEqual([
      'model.safetensors',
      'model.safetensors.index.json',
      'pytorch_model.bin',
      'pytorch_model.bin.index.json',
      'tf_model.h5',
    ]);
  });

  it('a repo with both: PyTorch by default, TF with --from tf', async () => {
    const pt = join(tmp, 'hub-both-pt');
    const tf = join(tmp, 'hub-both-tf');
    const a = await runWith(env(), ['convert', 'unc-nlp/lxmert-tiny-both', pt]);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(pt, 'model.json'), 'utf8')).source.files[0].path).toBe(
      'model.safetensors',
    );
    const b = await runWith(env(), ['convert', 'unc-nlp/lxmert-tiny-both', tf, '--from', 'tf']);
    expect(b.code, b.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(tf, 'model.json'), 'utf8'));
    expect(m.source.files.map((f: { path: string }) => f.path)).toEqual(['tf_model.h5']);
    const shard = (d: string) => readFileSync(join(d, 'group1-shard1of1.bin'));
    expect(shard(tf).equals(shard(pt))).toBe(true);
    expect(weightFiles('lxmert-tiny-both')).toContain('tf_model.h5');
  });
});
