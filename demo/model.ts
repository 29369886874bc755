/**
 * Demo: where Vite serves tfjs-backend-wasm's .wasm files and the package's data/ files, and
 * loading a model (URL or picked files) with LxmertVqa: in a worker, cached, with progress.
 */
/// <reference types="vite/client" />
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import vocabUrl from '../data/bert-base-uncased-vocab.txt?url';
import gqaUrl from '../data/gqa-answers.json?url';
import pretrainUrl from '../data/pretrain-answers.json?url';
import vqaUrl from '../data/vqa-answers.json?url';
import type { BackendPreference } from '../src/backend.js';
import { LxmertVqa, type LoadProgressEvent } from '../src/app/index.js';

const absolute = (u: string) => new URL(u, location.href).href;

/** tfjs-backend-wasm's binaries as Vite emits them (absolute: the worker resolves them). */
export const WASM_PATHS = {
  'tfjs-backend-wasm.wasm': absolute(wasmPlain),
  'tfjs-backend-wasm-simd.wasm': absolute(wasmSimd),
  'tfjs-backend-wasm-threaded-simd.wasm': absolute(wasmThreaded),
};

/** The package's data/ files (answer lists, BERT vocabulary) as Vite emits them. */
export const DATA_FILES = {
  'bert-base-uncased-vocab.txt': absolute(vocabUrl),
  'vqa-answers.json': absolute(vqaUrl),
  'gqa-answers.json': absolute(gqaUrl),
  'pretrain-answers.json': absolute(pretrainUrl),
};

/** Start loading a model (a folder URL or picked files); dispose() the result to cancel. */
export function startDemoModel(
  source: string | File[],
  backend: BackendPreference,
  onProgress: (e: LoadProgressEvent) => void,
): LxmertVqa {
  return LxmertVqa.start({
    model: typeof source === 'string' ? new URL(source, location.href) : source,
    backend,
    wasmPaths: WASM_PATHS,
    data: DATA_FILES,
    onProgress,
    onWarning: (m) => console.warn(`[lxmert] ${m}`),
  });
}
