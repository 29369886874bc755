/**
 * Node: a minimal random-access ZIP reader for PyTorch's zip checkpoints (PKWARE APPNOTE 6.3:
 * end of central directory, ZIP64 locator/record, central directory, local headers).
 *
 * It reads only the directory, then gives each entry's absolute data offset so tensors can be
 * read straight from the file with `FileHandle.read` (torch writes entries *stored*, i.e.
 * uncompressed, and 64-byte aligned since 2.1). Deflated entries can be read whole (for small
 * records such as `data.pkl`); large deflated tensors are refused.
 */
import type { FileHandle } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { WeightsError } from '../errors.js';
import { limits } from '../limits.js';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CDFH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;

/** Read exactly `length` bytes at `position` (fails with a WeightsError when short). */
export async function readAt(
  fh: FileHandle,
  position: number,
  length: number,
  source: string,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(out, done, length - done, position + done);
    if (bytesRead === 0) {
      throw new WeightsError(
        `truncated: needs bytes ${position}..${position + length}, the file ends at ${position + done}`,
        source,
      );
    }
    done += bytesRead;
  }
  return out;
}

const big = (v: bigint, what: string, source: string): number => {
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new WeightsError(`zip: ${what} ${v} is too large`, source);
  return Number(v);
};

/** True when the bytes start like a zip file (local header or empty-archive EOCD). */
export function looksLikeZip(head: Uint8Array): boolean {
  return (
    head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5)
  );
}

/** Read the central directory. Every entry's data range is checked against the file size. */
export async function readZipDirectory(
  fh: FileHandle,
  fileSize: number,
  source: string,
): Promise<Map<string, ZipEntry>> {
  const tailLen = Math.min(fileSize, 22 + 65535);
  const tail = await readAt(fh, fileSize - tailLen, tailLen, source);
  const tdv = new DataView(tail.buffer);
  let e = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tdv.getUint32(i, true) === EOCD_SIG) {
      e = i;
      break;
    }
  }
  if (e < 0)
    throw new WeightsError('zip: no end-of-central-directory record (truncated file?)', source);
  const eocdPos = fileSize - tailLen + e;
  let count = tdv.getUint16(e + 10, true);
  let cdSize = tdv.getUint32(e + 12, true);
  let cdOffset = tdv.getUint32(e + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    if (eocdPos < 20) throw new WeightsError('zip: ZIP64 locator missing', source);
    const loc = new DataView((await readAt(fh, eocdPos - 20, 20, source)).buffer);
    if (loc.getUint32(0, true) !== ZIP64_LOCATOR_SIG)
      throw new WeightsError('zip: ZIP64 locator missing', source);
    const recPos = big(loc.getBigUint64(8, true), 'ZIP64 record offset', source);
    if (recPos + 56 > fileSize)
      throw new WeightsError('zip: ZIP64 record is past the end of the file', source);
    const rec = new DataView((await readAt(fh, recPos, 56, source)).buffer);
    if (rec.getUint32(0, true) !== ZIP64_EOCD_SIG)
      throw new WeightsError('zip: bad ZIP64 record signature', source);
    count = big(rec.getBigUint64(32, true), 'entry count', source);
    cdSize = big(rec.getBigUint64(40, true), 'directory size', source);
    cdOffset = big(rec.getBigUint64(48, true), 'directory offset', source);
  }
  if (cdOffset + cdSize > fileSize || count * 46 > cdSize) {
    throw new WeightsError(
      `zip: central directory (${count} entries, ${cdSize} bytes at ${cdOffset}) does not fit the ${fileSize}-byte file`,
      source,
    );
  }
  const cd = await readAt(fh, cdOffset, cdSize, source);
  const dv = new DataView(cd.buffer);
  const dec = new TextDecoder();
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || dv.getUint32(p, true) !== CDFH_SIG) {
      throw new WeightsError(`zip: central directory entry ${i} is corrupt`, source);
    }
    const method = dv.getUint16(p + 10, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localHeaderOffset = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdSize) {
      throw new WeightsError(`zip: central directory entry ${i} runs past the directory`, source);
    }
    const name = dec.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: the 0xFFFFFFFF fields, in order size, csize, offset.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = dv.getUint16(x, true);
      const len = dv.getUint16(x + 2, true);
      if (id === 0x0001) {
        let q = x + 4;
        const next = (what: string): number => {
          if (q + 8 > x + 4 + len)
            throw new WeightsError(`zip: ZIP64 field of '${name}' is short`, source);
          q += 8;
          return big(dv.getBigUint64(q - 8, true), what, source);
        };
        if (size === 0xffffffff) size = next('size');
        if (compressedSize === 0xffffffff) compressedSize = next('compressed size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next('offset');
      }
      x += 4 + len;
    }
    if (localHeaderOffset + 30 + compressedSize > cdOffset) {
      throw new WeightsError(
        `zip: entry '${name}' (${compressedSize} bytes at ${localHeaderOffset}) runs into the central directory`,
        source,
      );
    }
    entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Absolute offset of an entry's data (reads its local header). */
export async function zipDataOffset(
  fh: FileHandle,
  entry: ZipEntry,
  source: string,
): Promise<number> {
  const h = new DataView((await readAt(fh, entry.localHeaderOffset, 30, source)).buffer);
  if (h.getUint32(0, true) !== LFH_SIG) {
    throw new WeightsError(
      `zip: bad local header for '${entry.name}' at byte ${entry.localHeaderOffset}`,
      source,
    );
  }
  return entry.localHeaderOffset + 30 + h.getUint16(26, true) + h.getUint16(28, true);
}

/**
 * Read a whole entry into memory (stored or deflated): for small records only. Its size is
 * checked against `limits().maxPickleBytes`, and a deflated entry's against
 * `maxInflateRatio` × its compressed size, before anything is read or inflated.
 */
export async function readZipEntry(
  fh: FileHandle,
  entry: ZipEntry,
  fileSize: number,
  source: string,
): Promise<Uint8Array> {
  const { maxPickleBytes, maxInflateRatio } = limits();
  if (entry.size > maxPickleBytes) {
    throw new WeightsError(
      `zip: entry '${entry.name}' claims ${entry.size} bytes, more than the ${maxPickleBytes} ` +
        'allowed (limit maxPickleBytes)',
      source,
    );
  }
  if (entry.method === 8 && entry.size > Math.max(entry.compressedSize, 1) * maxInflateRatio) {
    throw new WeightsError(
      `zip: entry '${entry.name}' would inflate ${entry.compressedSize} bytes to ${entry.size}, ` +
        `more than ${maxInflateRatio} times (limit maxInflateRatio)`,
      source,
    );
  }
  const start = await zipDataOffset(fh, entry, source);
  if (start + entry.compressedSize > fileSize) {
    throw new WeightsError(`zip: entry '${entry.name}' runs past the end of the file`, source);
  }
  const raw = await readAt(fh, start, entry.compressedSize, source);
  if (entry.method === 0) {
    if (entry.size !== entry.compressedSize) {
      throw new WeightsError(`zip: stored entry '${entry.name}' has inconsistent sizes`, source);
    }
    return raw;
  }
  if (entry.method === 8) {
    try {
      const out = inflateRawSync(raw, { maxOutputLength: Math.max(entry.size, 1) });
      if (out.byteLength !== entry.size)
        throw new Error(`${out.byteLength} bytes, expected ${entry.size}`);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      throw new WeightsError(
        `zip: cannot inflate '${entry.name}' (${(e as Error).message})`,
        source,
      );
    }
  }
  throw new WeightsError(
    `zip: entry '${entry.name}' uses compression method ${entry.method}`,
    source,
  );
}
