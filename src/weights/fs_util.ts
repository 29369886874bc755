/** Node: small file-system helpers of the weights code. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { WeightsError } from '../errors.js';

/** sha256 (hex) of a file, streamed in 1 MiB chunks. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }))
    h.update(chunk as Buffer);
  return h.digest('hex');
}

/** sha256 (hex) of bytes. */
export function sha256Bytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Size of a file or folder, undefined when it does not exist. */
export async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** 'dir', 'file', 'other' or undefined (missing). */
export async function kindOf(path: string): Promise<'dir' | 'file' | 'other' | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
  } catch {
    return undefined;
  }
}

/** Open a file for reading; failure is a WeightsError naming the file and the OS code. */
export async function openForRead(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (e) {
    throw new WeightsError(
      `cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      path,
    );
  }
}
