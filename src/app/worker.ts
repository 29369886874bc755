/**
 * The model's dedicated worker: one VqaEngine, driven by WorkerRequest messages (see
 * messages.ts). Started by LxmertVqa with `new Worker(new URL('./worker.js', import.meta.url),
 * { type: 'module' })`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { VqaEngine } from './engine.js';
import { toWire } from './errors_wire.js';
import { transferablesOf, type WorkerReply, type WorkerRequest } from './messages.js';

interface WorkerScope {
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<WorkerRequest>) => void): void;
}
const scope = globalThis as unknown as WorkerScope;

let engine: VqaEngine | null = null;
const running = new Map<number, AbortController>();
tf.enableProdMode();

function reply(message: WorkerReply, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

async function handle(req: WorkerRequest): Promise<void> {
  if (req.type === 'cancel') {
    running.get(req.target)?.abort(new DOMException('The call was cancelled', 'AbortError'));
    return;
  }
  const ctl = new AbortController();
  running.set(req.id, ctl);
  try {
    if (req.type === 'load') {
      engine?.dispose();
      engine = null;
      // Progress is throttled to one event per file every 50 ms (and every status change).
      const last = new Map<string, number>();
      const e = await VqaEngine.load(req.options, {
        signal: ctl.signal,
        onWarning: (message) => reply({ id: req.id, type: 'warning', message }),
        onProgress: (event) => {
          if (event.status === 'progress') {
            const now = performance.now();
            if (now - (last.get(event.file) ?? -Infinity) < 50) return;
            last.set(event.file, now);
          }
          reply({ id: req.id, type: 'progress', event });
        },
      });
      if (ctl.signal.aborted) {
        e.dispose();
        throw ctl.signal.reason;
      }
      engine = e;
      reply({ id: req.id, type: 'result', value: e.info });
    } else if (req.type === 'answer') {
      if (!engine) throw new Error('no model is loaded in the worker');
      const r = await engine.answer(req.input, req.question, {
        ...req.options,
        signal: ctl.signal,
      });
      reply({ id: req.id, type: 'result', value: r }, transferablesOf(r));
    } else if (req.type === 'detect') {
      if (!engine) throw new Error('no model is loaded in the worker');
      const r = await engine.detect(req.image, ctl.signal);
      reply({ id: req.id, type: 'result', value: r }, transferablesOf(r));
    } else if (req.type === 'dispose') {
      engine?.dispose();
      engine = null;
      reply({ id: req.id, type: 'result', value: null });
    }
  } catch (e) {
    reply({ id: req.id, type: 'error', error: toWire(e) });
  } finally {
    running.delete(req.id);
  }
}

scope.addEventListener('message', (e) => void handle(e.data));
