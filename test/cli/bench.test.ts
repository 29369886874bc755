/** `lxmert bench`: its report and JSON line, --no-fused and dispatch counts on WebGPU, errors. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectOneLineError, lxmert } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/golden.js';

const tinyConfig = join(FIXTURES, 'lxmert-tiny', 'config.json');

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

describe('lxmert bench', () => {
  it('times the VQA path of a checkpoint on wasm and ends with the JSON line', () => {
    const model = join(FIXTURES, 'lxmert-tiny-qa');
    const r = lxmert(['bench', '--model', model, '--runs', '3', '--warmup', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/backend: wasm \(SIMD, single-threaded\)/);
    expect(r.stdout).toMatch(/VQA forward: median \d+\.\d+ ms, min \d+\.\d+ ms, max \d+\.\d+ ms/);
    const j = lastJson(r.stdout);
    expect(j.backend).toBe('wasm');
    expect(r.stdout).toMatch(/runs: 3 after 1 warm-up/);
    // the report and the JSON line give the same figures
    const [, median, min, max] = r.stdout.match(
      /median (\d+\.\d+) ms, min (\d+\.\d+) ms, max (\d+\.\d+) ms/,
    )!;
    expect([median, min, max]).toEqual(
      [j.median_ms, j.min_ms, j.max_ms].map((v) => (v as number).toFixed(2)),
    );
    expect(j.min_ms as number).toBeGreaterThan(0);
  });

  it('on webgpu counts dispatches and GPU bytes; --no-fused runs stock ops, --dtype f16 halves the weights', () => {
    const args = [
      'bench',
      '--random',
      tinyConfig,
      '--backend',
      'webgpu',
      '--runs',
      '1',
      '--warmup',
      '1',
      '--json',
    ];
    const fused = lxmert(args);
    expect(fused.code, fused.stderr).toBe(0);
    const stock = lxmert([...args, '--no-fused', '--dtype', 'f16']);
    expect(stock.code, stock.stderr).toBe(0);
    const [f, s] = [lastJson(fused.stdout), lastJson(stock.stdout)];
    expect(f.backend).toBe('webgpu');
    expect(f.fused).toBe(true);
    expect(s.fused).toBe(false);
    // 2/2/2 layers: 7 per language/vision layer, 22 per cross layer, plus embeddings and heads
    expect(f.dispatches).toBeLessThan(100);
    expect(s.dispatches as number).toBeGreaterThan(4 * (f.dispatches as number));
    expect(f.gpu_bytes as number).toBeGreaterThan(0); // uploaded lazily: what the VQA path read
    expect((s.parameter_bytes as number) / (f.parameter_bytes as number)).toBeLessThan(0.56);
  });

  it('rejects bad options with one line', () => {
    expect(expectOneLineError(lxmert(['bench']))).toMatch(
      /give exactly one of --model DIR and --random CONFIG/,
    );
    expect(expectOneLineError(lxmert(['bench', '--random', 'vqa', '--runs', '0']))).toMatch(
      /--runs: expected a positive integer, got '0'/,
    );
    expect(expectOneLineError(lxmert(['bench', '--random', 'nope.json']))).toMatch(
      /--random: expected a config.json path or one of base, vqa, gqa, got 'nope.json'/,
    );
    expect(expectOneLineError(lxmert(['bench', '--random', 'vqa', '--dtype', 'f8']))).toMatch(
      /--dtype: expected one of f32, f16, int8, got 'f8'/,
    );
    expect(expectOneLineError(lxmert(['bench', '--random', tinyConfig, '--tokens', '65']))).toMatch(
      /--tokens: at most max_position_embeddings = 64, got 65/,
    );
  });
});
