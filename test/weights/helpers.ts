/** Shared helpers of the weights tests: temp folders, fixture paths, tensor comparison. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
export const EDGE = join(import.meta.dirname, 'fixtures');

/** A fresh temp folder removed after the file's tests. */
export function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `lxmert-${tag}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Entries of a folder (to check nothing was left behind). */
export function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}

export { relL2 } from '../helpers/compare.js';
