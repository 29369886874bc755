/**
 * Progress accounting: the loader reports per file (`initiate` for every file first, with the
 * totals from model.json; the engine announces the detector's files with the model's, before
 * any byte flows); this adds the bytes over all files and the overall fraction. Neither goes
 * backwards, by construction: a file retried from zero keeps its best count, and a file
 * announced late (a folder that loads itself and reports its sizes as it goes) holds the
 * fraction where it was until the bytes catch up.
 */
import type { ProgressEvent } from '../weights/progress.js';
import type { LoadProgressEvent } from './types.js';

export class ProgressAccount {
  private readonly totals = new Map<string, number>();
  private readonly loaded = new Map<string, number>();
  private totalBytes = 0;
  private loadedBytes = 0;
  private fraction = 0;
  /** Bytes served by the cache. */
  cachedBytes = 0;

  constructor(private readonly emit: (e: LoadProgressEvent) => void) {}

  /** Account one loader event and pass it on with the sums. `ready` is held back (see ready()). */
  add(e: ProgressEvent): void {
    if (e.status === 'ready') return;
    if (e.status === 'initiate' && e.total !== undefined && !this.totals.has(e.file)) {
      this.totals.set(e.file, e.total);
      this.totalBytes += e.total;
    }
    const before = this.loaded.get(e.file) ?? 0;
    const now = Math.max(before, e.loaded);
    this.loaded.set(e.file, now);
    this.loadedBytes += now - before;
    if (e.status === 'done' && e.cached) this.cachedBytes += e.loaded;
    this.emit({ ...e, ...this.sums() });
  }

  /** The model is built: `ready` with fraction 1. */
  ready(file: string): void {
    this.emit({
      status: 'ready',
      file,
      loaded: this.loadedBytes,
      total: this.totalBytes,
      loadedBytes: this.loadedBytes,
      totalBytes: this.totalBytes,
      fraction: 1,
    });
  }

  get bytes(): number {
    return this.totalBytes;
  }

  private sums(): { loadedBytes: number; totalBytes: number; fraction: number } {
    const t = this.totalBytes;
    const f = t > 0 ? Math.min(1, this.loadedBytes / t) : 0;
    this.fraction = Math.max(this.fraction, f);
    return { loadedBytes: this.loadedBytes, totalBytes: t, fraction: this.fraction };
  }
}
