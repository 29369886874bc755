/**
 * The in-page VQA demo: load a converted model, pick an image's region features from an obj36
 * .tsv file, ask a question, see the top-5 answers. Plain TypeScript and DOM.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendPreference } from '../src/backend.js';
import {
  BackendError,
  ConfigError,
  InputError,
  LxmertError,
  TokenizerError,
  WeightsError,
} from '../src/errors.js';
import {
  indexObj36Tsv,
  obj36VisualInput,
  parseObj36Line,
  type Obj36LineRef,
  type VisualInput,
} from '../src/features/obj36.js';
import type { VqaPipeline, VqaResult } from '../src/pipeline/vqa.js';
import type { ProgressEvent } from '../src/weights/progress.js';
import { activateBackend, loadDemoModel } from './model.js';

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

const ui = {
  modelForm: $<HTMLFormElement>('model-form'),
  modelUrl: $<HTMLInputElement>('model-url'),
  modelFiles: $<HTMLInputElement>('model-files'),
  backend: $<HTMLSelectElement>('backend'),
  loadUrl: $<HTMLButtonElement>('load-url'),
  progress: $<HTMLProgressElement>('load-progress'),
  modelStatus: $<HTMLParagraphElement>('model-status'),
  backendStatus: $<HTMLParagraphElement>('backend-status'),
  tsvFile: $<HTMLInputElement>('tsv-file'),
  imageId: $<HTMLSelectElement>('image-id'),
  imageStatus: $<HTMLParagraphElement>('image-status'),
  askForm: $<HTMLFormElement>('ask-form'),
  question: $<HTMLInputElement>('question'),
  ask: $<HTMLButtonElement>('ask'),
  answers: $<HTMLOListElement>('answers'),
  askStatus: $<HTMLParagraphElement>('ask-status'),
  error: $<HTMLParagraphElement>('error'),
};

const state: {
  pipeline: VqaPipeline | null;
  lines: Map<string, Obj36LineRef>;
  image: VisualInput | null;
  busy: boolean;
} = { pipeline: null, lines: new Map(), image: null, busy: false };

const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
const ms = (t: number) => (t < 1000 ? `${t.toFixed(0)} ms` : `${(t / 1000).toFixed(2)} s`);

/** Error class names by constructor: a minified build mangles `error.name`. */
const ERROR_NAMES: [new (...args: never[]) => Error, string][] = [
  [InputError, 'InputError'],
  [WeightsError, 'WeightsError'],
  [ConfigError, 'ConfigError'],
  [BackendError, 'BackendError'],
  [TokenizerError, 'TokenizerError'],
  [LxmertError, 'LxmertError'],
];

function showError(e: unknown): void {
  console.error(e);
  const err = e instanceof Error ? e : new Error(String(e));
  const name = ERROR_NAMES.find(([cls]) => err instanceof cls)?.[1] ?? err.name;
  ui.error.textContent = `${name}: ${err.message}`;
  ui.error.hidden = false;
  document.body.dataset.error = err.message;
}

function clearError(): void {
  ui.error.hidden = true;
  delete document.body.dataset.error;
}

function refreshAsk(): void {
  ui.ask.disabled =
    state.busy || !state.pipeline || !state.image || ui.question.value.trim() === '';
  ui.loadUrl.disabled = state.busy;
  ui.modelFiles.disabled = state.busy;
}

/** Sum the bytes of every file the loader reports. */
function progressTracker(): (e: ProgressEvent) => void {
  const total = new Map<string, number>();
  const loaded = new Map<string, number>();
  return (e) => {
    if (e.status === 'ready') return;
    if (e.total !== undefined) total.set(e.file, e.total);
    loaded.set(e.file, e.loaded);
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const all = sum(total);
    ui.progress.hidden = false;
    ui.progress.value = all ? sum(loaded) / all : 0;
    ui.modelStatus.textContent = `Loading ${e.file}: ${mb(sum(loaded))} of ${mb(all)}`;
  };
}

async function loadModel(source: string | File[]): Promise<void> {
  clearError();
  state.busy = true;
  refreshAsk();
  document.body.dataset.model = 'loading';
  const t0 = performance.now();
  try {
    const sel = await activateBackend(ui.backend.value as BackendPreference);
    ui.backendStatus.textContent = `Backend: ${sel.backend}${sel.f16 ? ' (f16)' : ''} (${sel.reason})`;
    state.pipeline?.dispose();
    state.pipeline = null;
    const m = await loadDemoModel(source, progressTracker());
    state.pipeline = m.pipeline;
    const c = m.converted.config;
    const shardBytes = m.converted.manifest.shards.reduce((a, s) => a + s.bytes, 0);
    ui.progress.value = 1;
    ui.modelStatus.textContent =
      `Loaded ${m.converted.architecture} (${m.converted.manifest.dtype}, ${mb(shardBytes)}, ` +
      `hidden ${c.hiddenSize}, ${c.numQaLabels} answers) in ${ms(performance.now() - t0)}. ` +
      `Vocabulary: ${m.vocabFrom}; answers: ${m.labelsFrom}.`;
    document.body.dataset.model = 'ready';
    document.body.dataset.backend = sel.backend;
  } catch (e) {
    ui.progress.hidden = true;
    ui.modelStatus.textContent = 'No model loaded.';
    document.body.dataset.model = 'error';
    showError(e);
  } finally {
    state.busy = false;
    refreshAsk();
  }
}

async function loadTsv(file: File): Promise<void> {
  clearError();
  state.lines.clear();
  state.image = null;
  ui.imageId.replaceChildren();
  ui.imageId.disabled = true;
  try {
    const refs = indexObj36Tsv(await file.text(), file.name);
    for (const r of refs) {
      state.lines.set(r.imgId, r);
      ui.imageId.append(new Option(r.imgId, r.imgId));
    }
    ui.imageId.disabled = refs.length === 0;
    ui.imageStatus.textContent = `${file.name}: ${refs.length} image${refs.length === 1 ? '' : 's'}`;
    if (refs.length > 0) selectImage(refs[0].imgId);
  } catch (e) {
    ui.imageStatus.textContent = '';
    showError(e);
  }
  refreshAsk();
}

function selectImage(id: string): void {
  clearError();
  state.image = null;
  const ref = state.lines.get(id);
  if (!ref) return;
  try {
    const img = parseObj36Line(ref.text, { where: `line ${ref.lineNumber}` });
    state.image = obj36VisualInput(img);
    ui.imageId.value = id;
    ui.imageStatus.textContent =
      `${img.imgId}: ${img.imgW}×${img.imgH} px, ${img.numBoxes} boxes × ` +
      `${img.featureDim} features (line ${ref.lineNumber})`;
  } catch (e) {
    ui.imageStatus.textContent = `${id}: unreadable`;
    showError(e);
  }
  refreshAsk();
}

function showAnswers(r: VqaResult): void {
  const scores = r.answers.map((a) => a.score);
  const hi = Math.max(...scores);
  const lo = Math.min(...scores);
  ui.answers.replaceChildren(
    ...r.answers.map((a, i) => {
      const li = document.createElement('li');
      li.dataset.labelId = String(a.labelId);
      const rank = Object.assign(document.createElement('span'), {
        className: 'rank',
        textContent: `${i + 1}.`,
      });
      const answer = Object.assign(document.createElement('span'), { className: 'answer' });
      const bar = Object.assign(document.createElement('span'), { className: 'bar' });
      bar.style.width = `${hi > lo ? 25 + (75 * (a.score - lo)) / (hi - lo) : 100}%`;
      answer.append(bar, a.answer === '' ? '(empty answer)' : a.answer);
      const score = Object.assign(document.createElement('span'), {
        className: 'score',
        textContent: a.score.toFixed(3),
        title: 'answer score (logit)',
      });
      li.append(rank, answer, score);
      return li;
    }),
  );
}

async function ask(): Promise<void> {
  const pipeline = state.pipeline;
  const image = state.image;
  if (!pipeline || !image) return;
  clearError();
  state.busy = true;
  refreshAsk();
  document.body.dataset.answer = 'running';
  try {
    const t0 = performance.now();
    const r = await pipeline.answer(ui.question.value, image, { topK: 5 });
    const t = performance.now() - t0;
    showAnswers(r);
    const tokens = r.inputIds.filter((id) => id !== pipeline.tokenizer.padTokenId).length;
    ui.askStatus.textContent =
      `${ms(t)} on ${tf.getBackend()} (tokenize, forward, top-5; ${tokens} tokens, ` +
      `${image.numBoxes} boxes). Scores are the answer head's logits.`;
    document.body.dataset.answer = 'done';
  } catch (e) {
    document.body.dataset.answer = 'error';
    showError(e);
  } finally {
    state.busy = false;
    refreshAsk();
  }
}

ui.modelForm.addEventListener('submit', (e) => {
  e.preventDefault();
  void loadModel(ui.modelUrl.value.trim());
});
ui.modelFiles.addEventListener('change', () => {
  const files = [...(ui.modelFiles.files ?? [])];
  if (files.length > 0) void loadModel(files);
});
ui.tsvFile.addEventListener('change', () => {
  const file = ui.tsvFile.files?.[0];
  if (file) void loadTsv(file);
});
ui.imageId.addEventListener('change', () => selectImage(ui.imageId.value));
ui.question.addEventListener('input', refreshAsk);
ui.askForm.addEventListener('submit', (e) => {
  e.preventDefault();
  void ask();
});
tf.enableProdMode();
document.body.dataset.model = 'none';
refreshAsk();
