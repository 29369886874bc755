/**
 * Write a file completely or not at all: a temporary file beside it, created exclusively
 * (`wx`: never through a planted link or over an existing file) under an unpredictable name,
 * renamed over the target when complete and removed on any failure.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(12).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data, { flag: 'wx', mode: 0o644 });
  } catch (e) {
    // EEXIST: someone else's file (or link) has the name; it is not ours to remove.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') await rm(tmp, { force: true });
    throw e;
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
