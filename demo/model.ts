/**
 * Demo: activate a backend and load a converted model (over HTTP or from picked files) into a
 * VqaPipeline, with the bundled vocabulary and answer lists as fallbacks.
 */
/// <reference types="vite/client" />
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import vocabUrl from '../data/bert-base-uncased-vocab.txt?url';
import gqaUrl from '../data/gqa-answers.json?url';
import pretrainUrl from '../data/pretrain-answers.json?url';
import vqaUrl from '../data/vqa-answers.json?url';
import { selectBackend, type BackendPreference, type BackendSelection } from '../src/backend.js';
import { WeightsError } from '../src/errors.js';
import { buildModel } from '../src/model/index.js';
import { gpuWeightFormat } from '../src/weights/manifest.js';
import { VqaPipeline } from '../src/pipeline/vqa.js';
import { LxmertTokenizer } from '../src/tokenizer/index.js';
import { loadConverted, type ConvertedModel, type FileReader } from '../src/weights/loader.js';
import type { ProgressCallback } from '../src/weights/progress.js';

/** Built-in answer lists by num_qa_labels (as src/weights/labels.ts picks them in Node). */
const BUILTIN_LABELS: Record<number, { url: string; name: string }> = {
  3129: { url: vqaUrl, name: 'vqa-answers.json' },
  1842: { url: gqaUrl, name: 'gqa-answers.json' },
  9500: { url: pretrainUrl, name: 'pretrain-answers.json' },
};

let wasmPathsSet = false;

/** Activate a backend (webgpu → wasm → cpu for 'auto'), with Vite-served .wasm files. */
export async function activateBackend(pref: BackendPreference): Promise<BackendSelection> {
  if (!wasmPathsSet) {
    const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
    setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmPlain,
      'tfjs-backend-wasm-simd.wasm': wasmSimd,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
    });
    wasmPathsSet = true;
  }
  return selectBackend(pref, { log: (m) => console.info(`[lxmert] ${m}`) });
}

/** A FileReader over files the user picked (matched by file name). */
export function pickedFilesReader(files: readonly File[]): FileReader {
  const byName = new Map(files.map((f) => [f.name, f]));
  return async (path, onBytes) => {
    const file = byName.get(path.split('/').pop() ?? path);
    if (!file) {
      throw new WeightsError(
        `missing: pick it too (picked: ${[...byName.keys()].join(', ') || 'nothing'})`,
        path,
      );
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    onBytes(bytes.byteLength);
    return bytes;
  };
}

async function fetchText(url: string, what: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok) throw new WeightsError(`HTTP ${res.status}`, `${what} (${url})`);
  return res.text();
}

export interface LoadedDemoModel {
  pipeline: VqaPipeline;
  converted: ConvertedModel;
  /** Where the vocabulary and labels came from. */
  vocabFrom: string;
  labelsFrom: string;
}

/** Load a converted model (URL, or picked files) and build its VQA pipeline. */
export async function loadDemoModel(
  source: string | readonly File[],
  onProgress: ProgressCallback,
): Promise<LoadedDemoModel> {
  const converted =
    typeof source === 'string'
      ? await loadConverted(new URL(source, location.href), { onProgress })
      : await loadConverted('picked files', { readFile: pickedFilesReader(source), onProgress });
  const cfg = converted.config;
  let vocabFrom = 'the model (vocab.txt)';
  let vocab = converted.vocab;
  if (vocab === undefined) {
    vocab = await fetchText(vocabUrl, 'bert-base-uncased vocabulary');
    vocabFrom = 'bundled bert-base-uncased';
  }
  let labels = converted.labels;
  let labelsFrom = 'the model (labels.json)';
  if (!labels) {
    const builtin = BUILTIN_LABELS[cfg.numQaLabels];
    if (!builtin) {
      throw new WeightsError(
        `the model has no labels.json and no built-in answer list has num_qa_labels = ` +
          `${cfg.numQaLabels} entries (convert it with --labels)`,
        converted.source,
      );
    }
    labels = JSON.parse(await fetchText(builtin.url, builtin.name)) as string[];
    labelsFrom = `bundled ${builtin.name}`;
  }
  if (converted.architecture === 'LxmertModel') {
    throw new WeightsError('an LxmertModel has no answer head', converted.source);
  }
  const model = buildModel(cfg, converted.weights, {
    architecture: converted.architecture,
    source: converted.source,
    weightFormat: gpuWeightFormat(converted.manifest),
  });
  if (!('answerScores' in model)) throw new WeightsError('no answer head', converted.source);
  try {
    const tokenizer = LxmertTokenizer.fromVocabText(vocab);
    return {
      pipeline: new VqaPipeline({ model, tokenizer, labels }),
      converted,
      vocabFrom,
      labelsFrom,
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
