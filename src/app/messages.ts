/**
 * The typed messages between LxmertVqa (page) and its worker. Every request has an id; the
 * worker answers each with `result` or `error`, and a load also with `progress`/`warning`.
 * Pixels and features travel as transferred buffers (not copied).
 */
import type { VisualInput } from '../features/validate.js';
import type { EngineLoadOptions } from './engine.js';
import type { WireError } from './errors_wire.js';
import type { AnswerResult, LoadInfo, LoadProgressEvent } from './types.js';

/** load() options that can be cloned to a worker (no functions, no custom store). */
export type WorkerLoadOptions = Omit<EngineLoadOptions, 'model' | 'cache'> & {
  model: string | readonly File[];
  cache?: boolean;
};

export type WorkerRequest =
  | { id: number; type: 'load'; options: WorkerLoadOptions }
  | {
      id: number;
      type: 'answer';
      input: VisualInput;
      question: string;
      options: { topK?: number; attention?: boolean };
    }
  /** Stop request `target` (a load's fetches abort; an answer not yet started is dropped). */
  | { id: number; type: 'cancel'; target: number }
  | { id: number; type: 'dispose' };

export type WorkerReply =
  | { id: number; type: 'progress'; event: LoadProgressEvent }
  | { id: number; type: 'warning'; message: string }
  | { id: number; type: 'result'; value: LoadInfo | AnswerResult | null }
  | { id: number; type: 'error'; error: WireError };

/** The buffers of a result that can be transferred instead of copied. */
export function transferablesOf(value: unknown): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const r = value as Partial<AnswerResult & VisualInput> | null;
  for (const a of [
    r?.regions?.boxes,
    r?.regions?.features,
    r?.crossAttention?.values,
    r?.features,
    r?.boxes,
  ]) {
    if (a && a.buffer instanceof ArrayBuffer) out.push(a.buffer);
  }
  return out.filter((b, i) => out.indexOf(b) === i && b.byteLength > 0);
}
