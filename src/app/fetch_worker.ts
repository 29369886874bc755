/**
 * The fetch worker: reads a model's files over fetch (fetchReader: retries, stall timeout,
 * length and HTML checks) and hashes each one with SubtleCrypto, off the thread that builds the
 * model. Receiving a body costs a browser's reading thread about as much CPU as the network
 * stack itself, so the model's worker only takes the verified bytes (transferred, not copied)
 * and makes them into weights. Started by FetchPool (fetch_pool.ts); requests and replies are
 * FetchRequest / FetchReply.
 */
import { fetchReader } from '../weights/fetch_reader.js';
import { subtleSha256 } from '../weights/loader.js';
import { toWire } from './errors_wire.js';
import type { FetchReply, FetchRequest } from './fetch_pool.js';

interface WorkerScope {
  postMessage(message: FetchReply, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<FetchRequest>) => void): void;
}
const scope = globalThis as unknown as WorkerScope;
const running = new Map<number, AbortController>();

async function read(req: Extract<FetchRequest, { type: 'read' }>): Promise<void> {
  const ctl = new AbortController();
  running.set(req.id, ctl);
  try {
    const reader = fetchReader(new URL(req.base), globalThis.fetch, req.retry);
    // Progress every `progressBytes` (each message costs this thread and the receiver a turn).
    let posted = 0;
    const bytes = await reader(
      req.path,
      (loaded) => {
        if (loaded - posted < req.progressBytes && loaded !== req.expected) return;
        posted = loaded;
        scope.postMessage({ id: req.id, type: 'progress', loaded });
      },
      req.expected,
      ctl.signal,
    );
    const sha256 = req.expected === undefined ? undefined : await subtleSha256(bytes);
    scope.postMessage({ id: req.id, type: 'bytes', bytes, sha256 }, [bytes.buffer]);
  } catch (e) {
    if (!ctl.signal.aborted) scope.postMessage({ id: req.id, type: 'error', error: toWire(e) });
  } finally {
    running.delete(req.id);
  }
}

scope.addEventListener('message', (e) => {
  const req = e.data;
  if (req.type === 'cancel') running.get(req.id)?.abort();
  else void read(req);
});
