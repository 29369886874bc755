/**
 * The in-page VQA demo: load a converted model, pick an image's region features from an obj36
 * .tsv file, ask a question, see the top-5 answers. Plain TypeScript and DOM.
 */
import type { BackendPreference } from '../src/backend.js';
import type { AnswerResult, LoadProgressEvent, LxmertVqa } from '../src/app/index.js';
import {
  indexObj36Tsv,
  parseObj36Line,
  type Obj36Image,
  type Obj36LineRef,
} from '../src/features/obj36.js';
import { startDemoModel } from './model.js';

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
  vqa: LxmertVqa | null;
  lines: Map<string, Obj36LineRef>;
  image: Obj36Image | null;
  busy: boolean;
} = { vqa: null, lines: new Map(), image: null, busy: false };

const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
const ms = (t: number) => (t < 1000 ? `${t.toFixed(0)} ms` : `${(t / 1000).toFixed(2)} s`);

function showError(e: unknown): void {
  console.error(e);
  const err = e instanceof Error ? e : new Error(String(e));
  // our errors keep their class name (a literal, minification-proof) across the worker
  ui.error.textContent = `${err.name}: ${err.message}`;
  ui.error.hidden = false;
  document.body.dataset.error = err.message;
}

function clearError(): void {
  ui.error.hidden = true;
  delete document.body.dataset.error;
}

function refreshAsk(): void {
  ui.ask.disabled = state.busy || !state.vqa || !state.image || ui.question.value.trim() === '';
  ui.loadUrl.disabled = state.busy;
  ui.modelFiles.disabled = state.busy;
}

function showProgress(e: LoadProgressEvent): void {
  ui.progress.hidden = false;
  ui.progress.value = e.fraction;
  const from = e.status === 'done' && e.cached ? ' (cached)' : '';
  ui.modelStatus.textContent = `Loading ${e.file}${from}: ${mb(e.loadedBytes)} of ${mb(e.totalBytes)}`;
}

async function loadModel(source: string | File[]): Promise<void> {
  clearError();
  state.busy = true;
  refreshAsk();
  document.body.dataset.model = 'loading';
  state.vqa?.dispose();
  state.vqa = null;
  try {
    const vqa = startDemoModel(source, ui.backend.value as BackendPreference, showProgress);
    state.vqa = vqa;
    await vqa.ready;
    const i = vqa.info;
    const sel = i.backend;
    const threads =
      sel.threads !== undefined
        ? `; ${sel.wasmBuild} build, ${sel.threads} thread${sel.threads === 1 ? '' : 's'}`
        : '';
    ui.backendStatus.textContent =
      `Backend: ${sel.backend}${sel.f16 ? ' (f16)' : ''} (${sel.reason})${threads}` +
      `${i.worker ? '; in a worker' : ''}${i.crossOriginIsolated ? '; cross-origin isolated' : ''}`;
    ui.progress.value = 1;
    ui.modelStatus.textContent =
      `Loaded ${i.architecture} (${i.dtype}, ${mb(i.bytes)}, ` +
      `${i.cachedBytes ? `${mb(i.cachedBytes)} from the cache, ` : ''}hidden ${i.hiddenSize}, ` +
      `${i.numLabels} answers) in ${ms(i.loadMs)}. Vocabulary: ${i.vocabFrom}; answers: ${i.labelsFrom}.`;
    document.body.dataset.model = 'ready';
    document.body.dataset.backend = sel.backend;
  } catch (e) {
    state.vqa?.dispose();
    state.vqa = null;
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
    state.image = img;
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

function showAnswers(r: AnswerResult): void {
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
  const vqa = state.vqa;
  const image = state.image;
  if (!vqa || !image) return;
  clearError();
  state.busy = true;
  refreshAsk();
  document.body.dataset.answer = 'running';
  try {
    // transfer: false keeps the image's arrays usable for the next question
    const r = await vqa.answer(image, ui.question.value, { topK: 5, transfer: false });
    showAnswers(r);
    ui.askStatus.textContent =
      `${ms(r.timings.totalMs)} on ${vqa.info.backend.backend} (tokenize, forward, top-5; ` +
      `${r.regions.numBoxes} boxes). Scores are the answer head's logits.`;
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
document.body.dataset.model = 'none';
refreshAsk();
