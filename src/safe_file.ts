/**
 * Node: opening untrusted files. The kind of every file is checked before it is opened (a
 * named pipe blocks `open` for reading, `/dev/zero` reads forever, a folder fails late), its
 * size before it is read, and, when a root folder is given, a symbolic link must not lead
 * outside that folder. The opened descriptor is checked again (`fstat`: still a regular file,
 * the same one) so a swap between the check and the open is caught too. Ground floor: errors
 * are made by the caller's factory so each area keeps its own error class.
 */
import { constants } from 'node:fs';
import { lstat, open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { WeightsError } from './errors.js';

/** Makes the caller's typed error from a message and the path at fault. */
export type FileErrorFactory = (message: string, path: string) => Error;

export interface SafeFileOptions {
  /** Refuse files larger than this (bytes); the message names `limitName`. */
  maxBytes?: number;
  /** The setting that raises maxBytes, for the message (e.g. `maxConfigBytes`). */
  limitName?: string;
  /** A folder the file must stay inside, symbolic links resolved. */
  root?: string;
  /** Default: WeightsError(message, path). */
  error?: FileErrorFactory;
}

const weightsError: FileErrorFactory = (m, p) => new WeightsError(m, p);

function kindName(s: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a named pipe';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The folder links from `root` may lead into: `root` itself, or, for a Hugging Face cache
 * snapshot (`…/models--org--name/snapshots/<rev>`, whose files are links to `../../blobs/`),
 * the repository's cache folder `…/models--org--name`.
 */
export function linkRoot(root: string): string {
  const snapshots = dirname(root);
  const repo = dirname(snapshots);
  return basename(snapshots) === 'snapshots' && basename(repo).startsWith('models--') ? repo : root;
}

/** True when `inner` is `outer` or inside it (both absolute, resolved). */
export function isInside(outer: string, inner: string): boolean {
  const r = relative(outer, inner);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

/**
 * Check that `path` is a regular file (inside `root`, when given) no larger than maxBytes,
 * without opening it. Returns its size and the real path.
 */
export async function checkRegularFile(
  path: string,
  options: SafeFileOptions = {},
): Promise<{ size: number; real: string }> {
  const err = options.error ?? weightsError;
  let l;
  try {
    l = await lstat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw err(
      code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (e as Error).message})`,
      path,
    );
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch (e) {
    throw err(`a symbolic link that leads nowhere (${(e as NodeJS.ErrnoException).code})`, path);
  }
  if (options.root !== undefined) {
    const realRoot = await realpath(options.root).catch(() => resolve(options.root as string));
    const root = linkRoot(realRoot);
    if (!isInside(root, real)) {
      throw err(
        `a symbolic link leading outside ${options.root} (to ${real}); refusing to read it`,
        path,
      );
    }
  }
  const s = l.isSymbolicLink() ? await stat(real) : l;
  if (!s.isFile()) throw err(`${kindName(s)}, expected a regular file`, path);
  if (options.maxBytes !== undefined && s.size > options.maxBytes) {
    throw err(
      `${s.size} bytes, more than the ${options.maxBytes} allowed` +
        (options.limitName ? ` (limit ${options.limitName}, see SECURITY.md)` : ''),
      path,
    );
  }
  return { size: s.size, real };
}

/**
 * Open a regular file for reading after checkRegularFile; the descriptor is verified with
 * fstat (regular file, same inode). Never blocks on a FIFO swapped in after the check.
 */
export async function openRegularFile(
  path: string,
  options: SafeFileOptions = {},
): Promise<FileHandle> {
  const err = options.error ?? weightsError;
  const { real } = await checkRegularFile(path, options);
  const before = await stat(real);
  let fh: FileHandle;
  try {
    fh = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (e) {
    throw err(`cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
  const after = await fh.stat();
  if (!after.isFile() || after.ino !== before.ino || after.dev !== before.dev) {
    await fh.close();
    throw err('changed while it was being opened; refusing to read it', path);
  }
  if (options.maxBytes !== undefined && after.size > options.maxBytes) {
    await fh.close();
    throw err(`${after.size} bytes, more than the ${options.maxBytes} allowed`, path);
  }
  return fh;
}

/** Read a whole regular file (checked as openRegularFile does). */
export async function readRegularFile(
  path: string,
  options: SafeFileOptions = {},
): Promise<Uint8Array> {
  const err = options.error ?? weightsError;
  const fh = await openRegularFile(path, options);
  try {
    const size = (await fh.stat()).size;
    // One byte more than announced: a file that grows while read is refused, not truncated.
    const out = new Uint8Array(size + 1);
    let done = 0;
    for (;;) {
      const { bytesRead } = await fh.read(out, done, out.byteLength - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
      if (done > size) throw err(`grew past its ${size} bytes while being read`, path);
    }
    return out.subarray(0, done);
  } finally {
    await fh.close();
  }
}

/** Read a regular file as UTF-8 text; invalid UTF-8 is refused (never replaced silently). */
export async function readTextFile(path: string, options: SafeFileOptions = {}): Promise<string> {
  const err = options.error ?? weightsError;
  const bytes = await readRegularFile(path, options);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    let line = 1;
    const dec = new TextDecoder('utf-8', { fatal: true });
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          dec.decode(bytes.subarray(start, i));
        } catch {
          break;
        }
        line++;
        start = i + 1;
      }
    }
    throw err(`invalid UTF-8 on line ${line}`, path);
  }
}
