/**
 * Node: a streaming writer of *stored* (uncompressed) ZIP archives, entry by entry, with each
 * entry's data 64-byte aligned as PyTorch ≥ 2.1 writes them (padding in the local header's
 * extra field). No ZIP64: archives stop at 4 GiB. Used to write PyTorch zip checkpoints for
 * tests and benchmarks.
 */
import { open, type FileHandle } from 'node:fs/promises';
import * as zlib from 'node:zlib';
import { WeightsError } from '../errors.js';

let table: Uint32Array | undefined;

/** CRC-32 (IEEE), zlib.crc32 when Node has it. */
export function crc32(bytes: Uint8Array, prev = 0): number {
  const native = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  if (native) return native(bytes, prev);
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = ~prev >>> 0;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const LIMIT = 0xffffffff;

export class ZipWriter {
  private pos = 0;
  private readonly central: Uint8Array[] = [];
  private count = 0;

  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    private readonly align: number,
  ) {}

  static async create(path: string, align = 64): Promise<ZipWriter> {
    return new ZipWriter(await open(path, 'w'), path, align);
  }

  private async put(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.byteLength) {
      const { bytesWritten } = await this.fh.write(bytes, off, bytes.byteLength - off);
      off += bytesWritten;
    }
    this.pos += bytes.byteLength;
  }

  /** Add one stored entry; `chunks` are its data in order. */
  async add(name: string, chunks: Uint8Array[]): Promise<void> {
    const nameBytes = new TextEncoder().encode(name);
    let size = 0;
    let crc = 0;
    for (const c of chunks) {
      size += c.byteLength;
      crc = crc32(c, crc);
    }
    const headerEnd = this.pos + 30 + nameBytes.length;
    const pad = this.align > 1 ? (this.align - ((headerEnd + 4) % this.align)) % this.align : 0;
    const extraLen = this.align > 1 ? 4 + pad : 0;
    if (this.pos + 30 + nameBytes.length + extraLen + size > LIMIT) {
      throw new WeightsError(
        'zip writer: archives over 4 GiB (ZIP64) are not supported',
        this.path,
      );
    }
    const lh = new Uint8Array(30 + nameBytes.length + extraLen);
    const dv = new DataView(lh.buffer);
    dv.setUint32(0, 0x04034b50, true);
    dv.setUint16(4, 20, true);
    dv.setUint16(8, 0, true); // stored
    dv.setUint32(14, crc, true);
    dv.setUint32(18, size, true);
    dv.setUint32(22, size, true);
    dv.setUint16(26, nameBytes.length, true);
    dv.setUint16(28, extraLen, true);
    lh.set(nameBytes, 30);
    if (extraLen) {
      dv.setUint16(30 + nameBytes.length, 0x4246, true); // 'FB' padding, as PyTorch writes
      dv.setUint16(32 + nameBytes.length, pad, true);
    }
    const offset = this.pos;
    await this.put(lh);
    for (const c of chunks) await this.put(c);
    const cd = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, size, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    cd.set(nameBytes, 46);
    this.central.push(cd);
    this.count++;
  }

  /** Write the central directory and close the file. */
  async close(): Promise<void> {
    const cdStart = this.pos;
    for (const c of this.central) await this.put(c);
    const eocd = new Uint8Array(22);
    const dv = new DataView(eocd.buffer);
    dv.setUint32(0, 0x06054b50, true);
    dv.setUint16(8, this.count, true);
    dv.setUint16(10, this.count, true);
    dv.setUint32(12, this.pos - cdStart, true);
    dv.setUint32(16, cdStart, true);
    await this.put(eocd);
    await this.fh.close();
  }

  /** Close without finishing (on failure). */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}
