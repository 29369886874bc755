/**
 * `lxmert convert` as users run it (node bin/lxmert.js, needs `npm run build`): success line,
 * help, usage errors (exit 2), bad input (exit 1, one stderr line, no stack, no OUTDIR), and a
 * Hub id through HF_ENDPOINT with a progress bar.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, listDir, tempDir } from '../weights/helpers.js';
import { startFakeHub, type FakeHub } from '../weights/hub_server.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'lxmert.js');
const tmp = tempDir('cli-convert');
const TINY = join(FIXTURES, 'lxmert-tiny');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'convert', ...args],
      { env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - t0 });
      },
    );
  });
}

function folder(name: string, files: Record<string, string | Uint8Array>): string {
  const d = join(tmp, name);
  mkdirSync(d);
  for (const [f, c] of Object.entries(files)) writeFileSync(join(d, f), c);
  return d;
}

describe('lxmert convert', () => {
  it('--help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: lxmert convert SRC OUTDIR/);
    expect(r.stdout).toMatch(/--dtype float32\|float16\|int8/);
  });

  it('converts a legacy .bin to int8 and says what it wrote', async () => {
    const src = join(tmp, 'legacy');
    mkdirSync(src);
    copyFileSync(join(TINY, 'config.json'), join(src, 'config.json'));
    copyFileSync(join(TINY, 'pytorch_model_legacy.bin'), join(src, 'pytorch_model.bin'));
    const out = join(tmp, 'out-legacy');
    const r = await run([src, out, '--dtype', 'int8', '--shard-size', '65536']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^wrote .*out-legacy: LxmertForPreTraining, 186 tensors, int8, 0\.4 MB in 7 shard\(s\)/,
    );
    expect(listDir(out)).toContain('group1-shard7of7.bin');
  });

  const usage: [string, string[], RegExp][] = [
    ['one argument', ['x'], /UsageError: expected SRC and OUTDIR, got 1 argument/],
    [
      'bad dtype',
      [TINY, join(tmp, 'o1'), '--dtype', 'bf16'],
      /UsageError: --dtype: expected one of float32, float16, int8, got 'bf16'/,
    ],
    [
      'bad shard size',
      [TINY, join(tmp, 'o2'), '--shard-size', '4MB'],
      /UsageError: --shard-size: expected a positive integer/,
    ],
    ['unknown option', [TINY, join(tmp, 'o3'), '--fp16'], /UsageError: Unknown option '--fp16'/],
  ];
  for (const [name, args, re] of usage) {
    it(`usage error: ${name}`, async () => {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n').length).toBe(1);
    });
  }

  const st = readFileSync(join(TINY, 'model.safetensors'));
  const cfg = readFileSync(join(TINY, 'config.json'));
  const bad: [string, () => string, RegExp][] = [
    [
      'truncated safetensors',
      () => folder('trunc', { 'config.json': cfg, 'model.safetensors': st.subarray(0, 1000) }),
      /^lxmert convert: WeightsError: .*model\.safetensors: header length 21432 runs past the end of the file \(1000 bytes\)$/m,
    ],
    [
      'random bytes as pytorch_model.bin',
      () =>
        folder('random', {
          'config.json': cfg,
          'pytorch_model.bin': Uint8Array.from({ length: 999 }, (_, i) => (i * 37) & 255),
        }),
      /^lxmert convert: WeightsError: .*pytorch_model\.bin: not a PyTorch checkpoint/,
    ],
    [
      'broken config.json',
      () => folder('badcfg', { 'config.json': '{', 'model.safetensors': st }),
      /^lxmert convert: ConfigError: config\.\(file\): expected valid JSON/,
    ],
    [
      'missing SRC',
      () => join(tmp, 'does-not-exist', 'x'),
      /^lxmert convert: WeightsError: .*x: no such folder/,
    ],
  ];
  for (const [name, make, re] of bad) {
    it(`bad input: ${name}`, async () => {
      const out = join(tmp, `out-${name.replace(/\W+/g, '-')}`);
      const r = await run([make(), out]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
      expect(listDir(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
      expect(r.ms).toBeLessThan(10_000);
    });
  }
});

describe('lxmert convert from the Hub', () => {
  let hub: FakeHub;
  beforeAll(async () => {
    hub = await startFakeHub({
      'unc-nlp/lxmert-tiny': {
        'config.json': join(TINY, 'config.json'),
        'model.safetensors': join(TINY, 'model.safetensors'),
      },
    });
  });
  afterAll(() => hub.close());

  it('HF_ENDPOINT, LXMERT_CACHE and --progress', async () => {
    const out = join(tmp, 'out-hub');
    const r = await run(['unc-nlp/lxmert-tiny', out, '--progress', '--dtype', 'float16'], {
      HF_ENDPOINT: hub.endpoint,
      LXMERT_CACHE: join(tmp, 'cache'),
      HF_TOKEN: '',
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^model\.safetensors {2}1\.63\/1\.63 MB {2}[\d.]+ MB\/s$/m);
    const m = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(m.source.kind).toBe('hub');
    expect(m.source.repo).toBe('unc-nlp/lxmert-tiny');
    expect(hub.cuts).toBe(1);
  });
});
