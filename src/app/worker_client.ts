/**
 * The page's side of the worker: numbered requests, replies routed back to their promise,
 * cancellation, and a crashed worker reported to every pending call (LxmertVqa re-creates it
 * on the next one).
 */
import { BackendError } from '../errors.js';
import { fromWire } from './errors_wire.js';
import type { WorkerReply, WorkerRequest } from './messages.js';
import type { LoadProgressEvent } from './types.js';

type Body<T = WorkerRequest> = T extends { id: number } ? Omit<T, 'id'> : never;

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  onProgress?: (e: LoadProgressEvent) => void;
  onWarning?: (m: string) => void;
}

export interface CallHooks {
  onProgress?: (e: LoadProgressEvent) => void;
  onWarning?: (m: string) => void;
  signal?: AbortSignal;
  transfer?: Transferable[];
}

/** The worker module next to this one (a bundler emits it as its own chunk). */
export function createModelWorker(): Worker {
  return new Worker(new URL('./worker.js', import.meta.url), {
    type: 'module',
    name: 'lxmert-web',
  });
}

export class WorkerClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Set when the worker died; the next user re-creates it. */
  crashed: Error | null = null;

  constructor(private readonly create: () => Worker = createModelWorker) {}

  /** The worker, started on first use. */
  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = this.create();
    w.addEventListener('message', (e: MessageEvent<WorkerReply>) => this.onReply(e.data));
    w.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault();
      this.fail(new BackendError(`the model worker crashed: ${e.message || 'unknown error'}`));
    });
    w.addEventListener('messageerror', () =>
      this.fail(new BackendError('the model worker sent a message that could not be read')),
    );
    this.worker = w;
    this.crashed = null;
    return w;
  }

  private onReply(m: WorkerReply): void {
    const p = this.pending.get(m.id);
    if (!p) return; // cancelled meanwhile
    if (m.type === 'progress') p.onProgress?.(m.event);
    else if (m.type === 'warning') p.onWarning?.(m.message);
    else {
      this.pending.delete(m.id);
      if (m.type === 'result') p.resolve(m.value);
      else p.reject(fromWire(m.error));
    }
  }

  /** The worker is gone: every pending call fails with `error`. */
  private fail(error: Error): void {
    this.worker?.terminate();
    this.worker = null;
    this.crashed = error;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(error);
  }

  /** Send a request; resolves with the worker's result. */
  call<T>(body: Body, hooks: CallHooks = {}): Promise<T> {
    const signal = hooks.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const worker = this.ensure();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.delete(id)) return;
        this.worker?.postMessage({ id: this.nextId++, type: 'cancel', target: id });
        reject(signal!.reason);
      };
      this.pending.set(id, {
        resolve: (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v as T);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        onProgress: hooks.onProgress,
        onWarning: hooks.onWarning,
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({ ...body, id } as WorkerRequest, hooks.transfer ?? []);
    });
  }

  /** Stop the worker now (frees everything it held); pending calls fail with `reason`. */
  terminate(reason: unknown = new DOMException('The model was disposed', 'AbortError')): void {
    const w = this.worker;
    this.worker = null;
    w?.terminate();
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(reason);
  }
}
