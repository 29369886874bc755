/**
 * The loading thread's side of the fetch workers (fetch_worker.ts): a FileReader over fetch
 * whose reads of sized files (shards, vocab, labels) and their sha256 run in other threads
 * (the least busy of `threads`), so that the thread building the model only
 * turns verified bytes into weights. The digest the worker computed is handed to the loader's
 * check through `sha256` (looked up by the very array the read returned; anything else, such
 * as a cached shard, is hashed here). A worker that cannot start or crashes is reported once
 * as a warning and its reads, and every later one, run in this thread instead.
 */
import type { FetchReaderOptions, FileReader } from '../weights/fetch_reader.js';
import { fetchReader } from '../weights/fetch_reader.js';
import { subtleSha256 } from '../weights/loader.js';
import { isNode } from '../../kernels/runtime/node_gpu.js';
import { fromWire, type WireError } from './errors_wire.js';

export type FetchRequest =
  | {
      id: number;
      type: 'read';
      /** The folder's URL (ends in '/'); `path` is relative to it. */
      base: string;
      path: string;
      expected?: number;
      retry?: FetchReaderOptions;
      /** Post progress after at least this many new bytes (and at the end). */
      progressBytes: number;
    }
  | { id: number; type: 'cancel' };

export type FetchReply =
  | { id: number; type: 'progress'; loaded: number }
  | { id: number; type: 'bytes'; bytes: Uint8Array; sha256?: string }
  | { id: number; type: 'error'; error: WireError };

/** The fetch worker module next to this one (a bundler emits it as its own chunk). */
export function createFetchWorker(): Worker {
  return new Worker(new URL('./fetch_worker.js', import.meta.url), {
    type: 'module',
    name: 'lxmert-web fetch',
  });
}

interface Pending {
  onBytes: (loaded: number) => void;
  resolve(bytes: Uint8Array): void;
  reject(e: unknown): void;
  /** Read here instead (the worker failed). */
  fallback(): void;
}

/** Whether this runtime can start the fetch worker (browsers; not Node). */
export function fetchWorkerAvailable(): boolean {
  return typeof Worker !== 'undefined' && !isNode();
}

export class FetchPool {
  /** Empty once they failed or were stopped: reads then run in this thread. */
  private workers: Worker[] = [];
  /** Reads in flight per worker (a read goes to the least busy). */
  private readonly busy: number[] = [];
  private failed = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending & { worker: number }>();
  /** Digests computed by the worker, by the array a read returned. */
  private readonly digests = new WeakMap<Uint8Array, string>();

  /**
   * @param options.threads fetch workers (default 1)
   * @param options.onWarning told once when a worker fails (the reads then run in this thread)
   * @param create starts a worker (tests pass their own)
   */
  constructor(
    private readonly options: {
      retry?: FetchReaderOptions;
      onWarning?: (m: string) => void;
      threads?: number;
    },
    create: () => Worker = createFetchWorker,
    private readonly progressBytes = 1 << 20,
  ) {
    const n = Math.max(1, Math.floor(options.threads ?? 1));
    for (let i = 0; i < n && !this.failed; i++) {
      let w: Worker;
      try {
        w = create();
      } catch (e) {
        this.broken(`the fetch worker could not start (${(e as Error)?.message ?? e})`);
        return;
      }
      this.workers.push(w);
      this.busy.push(0);
      w.addEventListener('message', (e: MessageEvent<FetchReply>) => this.onReply(e.data));
      w.addEventListener('error', (e: ErrorEvent) => {
        e.preventDefault();
        this.broken(`the fetch worker failed (${e.message || 'unknown error'})`);
      });
      w.addEventListener('messageerror', () =>
        this.broken('the fetch worker sent a message that could not be read'),
      );
    }
  }

  /** A worker failed: warn once, stop them all, and read what was pending in this thread. */
  private broken(why: string): void {
    if (this.failed) return;
    this.failed = true;
    this.options.onWarning?.(`${why}; reading the files in the model's thread`);
    for (const w of this.workers) w.terminate();
    this.workers = [];
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.fallback();
  }

  private onReply(r: FetchReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    if (r.type === 'progress') return void p.onBytes(r.loaded);
    this.pending.delete(r.id);
    this.busy[p.worker]--;
    if (r.type === 'error') return void p.reject(fromWire(r.error));
    if (r.sha256 !== undefined) this.digests.set(r.bytes, r.sha256);
    p.resolve(r.bytes);
  }

  /** A FileReader for files under `base` (a folder URL ending in '/'). */
  reader(base: URL): FileReader {
    const here = fetchReader(base, globalThis.fetch, this.options.retry);
    return (path, onBytes, expected, signal) => {
      // A file of unknown size (model.json: small, and first) is read here while the
      // workers start.
      if (!this.workers.length || expected === undefined) {
        return here(path, onBytes, expected, signal);
      }
      signal?.throwIfAborted();
      const id = this.nextId++;
      const at = this.busy.indexOf(Math.min(...this.busy));
      const worker = this.workers[at];
      this.busy[at]++;
      return new Promise<Uint8Array>((resolve, reject) => {
        const onAbort = () => {
          if (this.pending.delete(id)) this.busy[at]--;
          this.workers[at]?.postMessage({ id, type: 'cancel' } satisfies FetchRequest);
          reject(signal!.reason);
        };
        const done = () => signal?.removeEventListener('abort', onAbort);
        this.pending.set(id, {
          worker: at,
          onBytes,
          resolve: (b) => (done(), resolve(b)),
          reject: (e) => (done(), reject(e)),
          fallback: () => {
            done();
            here(path, onBytes, expected, signal).then(resolve, reject);
          },
        });
        signal?.addEventListener('abort', onAbort, { once: true });
        worker.postMessage({
          id,
          type: 'read',
          base: base.href,
          path,
          expected,
          retry: this.options.retry,
          progressBytes: this.progressBytes,
        } satisfies FetchRequest);
      });
    };
  }

  /** sha256 as the loader wants it: the worker's digest for bytes it read, else SubtleCrypto. */
  readonly sha256 = (bytes: Uint8Array): Promise<string> => {
    const d = this.digests.get(bytes);
    return d !== undefined ? Promise.resolve(d) : subtleSha256(bytes);
  };

  /** Stop the workers (reads still pending reject with an AbortError). */
  dispose(): void {
    for (const w of this.workers) w.terminate();
    this.workers = [];
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending)
      p.reject(new DOMException('the fetch worker was stopped', 'AbortError'));
  }
}
