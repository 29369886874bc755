/**
 * Node: load a converted model folder from the file system (sha256 with node:crypto). HTTP(S)
 * URLs go to loadConverted's fetch path.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { openForRead } from './fs_util.js';
import { loadConverted, type ConvertedModel, type FileReader, type LoadOptions } from './loader.js';

/** Reads files of `dir`, reporting progress every 4 MiB. */
export function fsReader(dir: string): FileReader {
  return async (path, onBytes) => {
    const full = join(dir, path);
    const fh = await openForRead(full, { root: dir });
    try {
      const size = (await fh.stat()).size;
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

/** Load a converted model from a folder path (or an http(s) URL). */
export function loadConvertedDir(
  source: string,
  options: Omit<LoadOptions, 'readFile'> = {},
): Promise<ConvertedModel> {
  if (/^https?:\/\//.test(source)) return loadConverted(source, options);
  const dir = resolve(source.endsWith('model.json') ? join(source, '..') : source);
  return loadConverted(dir, { sha256: nodeSha256, ...options, readFile: fsReader(dir) });
}
