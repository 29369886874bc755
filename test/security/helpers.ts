/**
 * Helpers of the attacker-style tests: hostile files are generated here, small, with big
 * claims (sizes, shapes, strides) in their headers rather than big contents.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { crc32 } from '../../src/weights/zip_writer.js';
import { FIXTURES, tempDir } from '../weights/helpers.js';

export { FIXTURES, tempDir };

/** The tiny pretraining fixture (config.json + model.safetensors). */
export const TINY = join(FIXTURES, 'lxmert-tiny');

/** Create a named pipe (nobody ever writes to it: opening it for reading would block). */
export function mkfifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}

/** A fresh folder holding a copy of the given fixture files. */
export function copyOf(dir: string, files: string[], into: string): string {
  mkdirSync(into, { recursive: true });
  for (const f of files) cpSync(join(dir, f), join(into, f));
  return into;
}

/** safetensors bytes from a header object (written as given: duplicates by raw text) + data. */
export function rawSafetensors(headerJson: string, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(headerJson);
  const out = new Uint8Array(8 + h.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.byteLength), true);
  out.set(h, 8);
  out.set(data, 8 + h.byteLength);
  return out;
}

export interface ZipItem {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** Override the uncompressed size written in the central directory (a claim). */
  claimSize?: number;
}

/** A zip archive (local headers, central directory, EOCD) with the given claims. */
export function buildZip(items: ZipItem[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const it of items) {
    const name = enc.encode(it.name);
    const body = it.deflate ? deflateRawSync(it.data) : it.data;
    const size = it.claimSize ?? it.data.byteLength;
    const crc = crc32(it.data);
    const lh = new Uint8Array(30 + name.length);
    const l = new DataView(lh.buffer);
    l.setUint32(0, 0x04034b50, true);
    l.setUint16(4, 20, true);
    l.setUint16(8, it.deflate ? 8 : 0, true);
    l.setUint32(14, crc, true);
    l.setUint32(18, body.byteLength, true);
    l.setUint32(22, size, true);
    l.setUint16(26, name.length, true);
    lh.set(name, 30);
    const ch = new Uint8Array(46 + name.length);
    const c = new DataView(ch.buffer);
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(10, it.deflate ? 8 : 0, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, body.byteLength, true);
    c.setUint32(24, size, true);
    c.setUint16(28, name.length, true);
    c.setUint32(42, offset, true);
    ch.set(name, 46);
    parts.push(lh, body);
    central.push(ch);
    offset += lh.byteLength + body.byteLength;
  }
  const cdSize = central.reduce((a, b) => a + b.byteLength, 0);
  const eocd = new Uint8Array(22);
  const e = new DataView(eocd.buffer);
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, items.length, true);
  e.setUint16(10, items.length, true);
  e.setUint32(12, cdSize, true);
  e.setUint32(16, offset, true);
  const all = [...parts, ...central, eocd];
  const out = new Uint8Array(all.reduce((a, b) => a + b.byteLength, 0));
  let p = 0;
  for (const a of all) {
    out.set(a, p);
    p += a.byteLength;
  }
  return out;
}

/** Write `files` (name → bytes or text) into a new folder `dir`. */
export function writeFolder(dir: string, files: Record<string, Uint8Array | string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  return dir;
}

/** Run `fn` and return what it threw (fails the test when nothing was thrown). */
export async function thrown(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, nothing was thrown');
}
