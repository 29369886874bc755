/** Node: small file-system helpers of the weights code. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, stat, type FileHandle } from 'node:fs/promises';
import { openRegularFile, type SafeFileOptions } from '../safe_file.js';

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

/** True when something (of any kind, a dangling link included) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Open a file for reading: a regular file (checked before the open: a FIFO, device or folder
 * is refused), inside `options.root` when given; failure is a WeightsError naming the file.
 */
export function openForRead(path: string, options: SafeFileOptions = {}): Promise<FileHandle> {
  return openRegularFile(path, options);
}
