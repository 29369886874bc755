/**
 * The typed messages between LxmertVqa (page) and its worker. Every request has an id; the
 * worker answers each with `result` or `error`, and a load also with `progress`/`warning`.
 * Pixels and features travel as transferred buffers (not copied).
 */
import type { VisualInput } from '../features/validate.js';
import type { EngineLoadOptions } from './engine.js';
import type { WireError } from './errors_wire.js';
import type {
  AnswerResult,
  DetectedRegions,
  LoadInfo,
  LoadProgressEvent,
  RgbaImage,
} from './types.js';

/** An image on its way to the worker: file bytes (PNG/JPEG), a Blob, or decoded RGBA pixels. */
export type WorkerImage = Uint8Array | Blob | RgbaImage;

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
      input: VisualInput | WorkerImage;
      question: string;
      options: { topK?: number; attention?: boolean };
    }
  | { id: number; type: 'detect'; image: WorkerImage }
  /** Stop request `target` (a load's fetches abort; an answer not yet started is dropped). */
  | { id: number; type: 'cancel'; target: number }
  | { id: number; type: 'dispose' };

export type WorkerReply =
  | { id: number; type: 'progress'; event: LoadProgressEvent }
  | { id: number; type: 'warning'; message: string }
  | { id: number; type: 'result'; value: LoadInfo | AnswerResult | DetectedRegions | null }
  | { id: number; type: 'error'; error: WireError };

/** The buffers of a result (or of region features / an image) that can be transferred. */
export function transferablesOf(value: unknown): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const add = (o: unknown) => {
    if (typeof o !== 'object' || o === null) return;
    for (const a of Object.values(o)) {
      if (ArrayBuffer.isView(a) && a.buffer instanceof ArrayBuffer) out.push(a.buffer);
    }
  };
  const r = value as Partial<AnswerResult> | null;
  add(r);
  add(r?.regions);
  add(r?.crossAttention);
  return out.filter((b, i) => out.indexOf(b) === i && b.byteLength > 0);
}
