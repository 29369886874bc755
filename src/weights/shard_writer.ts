/**
 * Node: write a byte stream as fixed-size shards `group1-shard{i}of{n}.bin` (tf.js naming),
 * hashing each with sha256 as it is written. The total is known up front (from the manifest),
 * so `n` is too.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { WeightsError } from '../errors.js';
import type { ManifestFile } from './manifest.js';

export function shardNames(totalBytes: number, shardSize: number): string[] {
  const n = Math.max(1, Math.ceil(totalBytes / shardSize));
  return Array.from({ length: n }, (_, i) => `group1-shard${i + 1}of${n}.bin`);
}

export class ShardWriter {
  readonly names: string[];
  private index = -1;
  private fh: FileHandle | undefined;
  private hash: Hash | undefined;
  private inShard = 0;
  private written = 0;
  private readonly done: ManifestFile[] = [];

  constructor(
    private readonly dir: string,
    private readonly totalBytes: number,
    private readonly shardSize: number,
  ) {
    this.names = shardNames(totalBytes, shardSize);
  }

  private async next(): Promise<void> {
    await this.closeCurrent();
    this.index++;
    this.fh = await open(join(this.dir, this.names[this.index]), 'wx');
    this.hash = createHash('sha256');
    this.inShard = 0;
  }

  private async closeCurrent(): Promise<void> {
    if (!this.fh || !this.hash) return;
    await this.fh.close();
    this.done.push({
      path: this.names[this.index],
      bytes: this.inShard,
      sha256: this.hash.digest('hex'),
    });
    this.fh = undefined;
    this.hash = undefined;
  }

  /** Append bytes (split across shard boundaries as needed). */
  async write(bytes: Uint8Array): Promise<void> {
    if (this.written + bytes.byteLength > this.totalBytes) {
      throw new WeightsError(
        `shard writer: more than the planned ${this.totalBytes} bytes`,
        this.dir,
      );
    }
    let p = 0;
    while (p < bytes.byteLength) {
      if (!this.fh || this.inShard === this.shardSize) await this.next();
      const n = Math.min(bytes.byteLength - p, this.shardSize - this.inShard);
      const chunk = bytes.subarray(p, p + n);
      let off = 0;
      while (off < n) {
        const { bytesWritten } = await this.fh!.write(chunk, off, n - off);
        off += bytesWritten;
      }
      this.hash!.update(chunk);
      this.inShard += n;
      this.written += n;
      p += n;
    }
  }

  /** Close the last shard; checks the planned total was written. */
  async finish(): Promise<ManifestFile[]> {
    if (this.written === 0 && this.totalBytes === 0) await this.next();
    await this.closeCurrent();
    if (this.written !== this.totalBytes || this.done.length !== this.names.length) {
      throw new WeightsError(
        `shard writer: wrote ${this.written} of ${this.totalBytes} bytes`,
        this.dir,
      );
    }
    return this.done;
  }

  /** Close without checks (on failure). */
  async abort(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
  }
}
