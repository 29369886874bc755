/**
 * The demo's link parameters: `?model=&detector=&image=&question=&backend=` run the whole path
 * (load, detect, ask) when the page opens. Values are URLs relative to the page, a question, a
 * backend name.
 */
import type { BackendPreference } from '../src/backend.js';

export const DEFAULT_MODEL_URL = './weights/lxmert-vqa/';
export const DEFAULT_DETECTOR_URL = './weights/frcnn-vg/';

export interface DemoParams {
  model: string;
  detector: string;
  /** An image URL to fetch and ask about; null when the link has none. */
  image: string | null;
  question: string | null;
  backend: BackendPreference;
  /** The link names any of model, detector, image, question: run on open. */
  autorun: boolean;
}

const BACKENDS: readonly BackendPreference[] = ['auto', 'webgpu', 'wasm', 'cpu'];

export function parseParams(search: string): DemoParams {
  const p = new URLSearchParams(search);
  const text = (k: string) => {
    const v = p.get(k)?.trim();
    return v ? v : null;
  };
  const backend = text('backend') ?? 'auto';
  if (!(BACKENDS as readonly string[]).includes(backend)) {
    throw new RangeError(`?backend= must be one of ${BACKENDS.join(', ')}; got "${backend}"`);
  }
  return {
    model: text('model') ?? DEFAULT_MODEL_URL,
    detector: text('detector') ?? DEFAULT_DETECTOR_URL,
    image: text('image'),
    question: text('question'),
    backend: backend as BackendPreference,
    autorun: ['model', 'detector', 'image', 'question'].some((k) => p.has(k)),
  };
}
