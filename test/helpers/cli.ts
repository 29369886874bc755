/** Run the built `lxmert` CLI (bin/lxmert.js → dist/) as a child process. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function lxmert(args: string[], input?: string, timeoutMs = 120_000): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'lxmert.js'), ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, LXMERT_DEBUG: '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A CLI failure: non-zero exit and exactly one line on stderr, with no stack trace. */
export function expectOneLineError(r: CliResult): string {
  if (r.code === 0) throw new Error(`expected failure, got exit 0; stdout: ${r.stdout}`);
  const lines = r.stderr.trimEnd().split('\n');
  if (lines.length !== 1 || /\n\s+at /.test(r.stderr)) {
    throw new Error(`expected one stderr line, got:\n${r.stderr}`);
  }
  return lines[0];
}
