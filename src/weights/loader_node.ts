/**
 * Node: load a converted model folder from the file system (sha256 with node:crypto). HTTP(S)
 * URLs go to loadConverted's fetch path.
 *
 * Every file is a regular file inside the folder (no pipe, device or link leading out), and a
 * file whose size differs from what model.json announces is refused from its `fstat`, before
 * a byte of it is read (the file-system twin of stopping a fetch at the announced size).
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { WeightsError } from '../errors.js';
import { parseJsonGuarded } from '../json_guard.js';
import { limits } from '../limits.js';
import { openForRead } from './fs_util.js';
import { loadConverted, type ConvertedModel, type FileReader, type LoadOptions } from './loader.js';
import { MANIFEST_FILE } from './manifest.js';

/**
 * Reads files of `dir`, reporting progress every 4 MiB. `expectedBytes`: the size a file must
 * have (checked before reading), when known.
 */
export function fsReader(
  dir: string,
  expectedBytes: (path: string) => number | undefined = () => undefined,
): FileReader {
  return async (path, onBytes, expected) => {
    const full = join(dir, path);
    const isManifest = path === MANIFEST_FILE;
    const fh = await openForRead(full, {
      root: dir,
      ...(isManifest ? { maxBytes: limits().maxIndexBytes, limitName: 'maxIndexBytes' } : {}),
    });
    try {
      const size = (await fh.stat()).size;
      const want = expected ?? expectedBytes(path);
      if (want !== undefined && size !== want) {
        throw new WeightsError(`${size} bytes, model.json says ${want}; not read`, full);
      }
      const out = new Uint8Array(size);
      let done = 0;
      while (done < size) {
        const { bytesRead } = await fh.read(out, done, Math.min(size - done, 4 << 20), done);
        if (bytesRead === 0) break;
        done += bytesRead;
        onBytes(done);
      }
      return out.subarray(0, done);
    } finally {
      await fh.close();
    }
  };
}

export async function nodeSha256(bytes: Uint8Array): Promise<string> {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The byte counts model.json announces for its files (shards, vocab, labels). The text is
 * parsed guarded (depth, duplicate keys) so a hostile manifest fails here with a WeightsError.
 */
function announcedSizes(bytes: Uint8Array, where: string): Map<string, number> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new WeightsError('model.json is not valid UTF-8', where);
  }
  const json = parseJsonGuarded(text, (msg) => {
    throw new WeightsError(`model.json: ${msg}`, where);
  }) as { shards?: unknown; vocab?: unknown; labels?: unknown } | null;
  const out = new Map<string, number>();
  const note = (f: unknown) => {
    const { path, bytes: n } = (f ?? {}) as { path?: unknown; bytes?: unknown };
    if (typeof path === 'string' && Number.isSafeInteger(n)) out.set(path, n as number);
  };
  if (json && typeof json === 'object') {
    if (Array.isArray(json.shards)) json.shards.forEach(note);
    note(json.vocab);
    note(json.labels);
  }
  return out;
}

/** Load a converted model from a folder path (or an http(s) URL). */
export function loadConvertedDir(
  source: string,
  options: Omit<LoadOptions, 'readFile'> = {},
): Promise<ConvertedModel> {
  if (/^https?:\/\//.test(source)) return loadConverted(source, options);
  const dir = resolve(source.endsWith('model.json') ? join(source, '..') : source);
  let announced = new Map<string, number>();
  const base = fsReader(dir, (p) => announced.get(p));
  const readFile: FileReader = async (path, onBytes, expected, signal) => {
    const bytes = await base(path, onBytes, expected, signal);
    if (path === MANIFEST_FILE) announced = announcedSizes(bytes, join(dir, path));
    return bytes;
  };
  return loadConverted(dir, { sha256: nodeSha256, ...options, readFile });
}
