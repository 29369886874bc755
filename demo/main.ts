/**
 * The VQA demo page: a photo (drop, pick, paste, camera, or ?image=) → the detector's 36 regions
 * drawn over it → a question → the top-5 answers, and a heatmap of where the model looked.
 * Precomputed obj36 features still work. Plain TypeScript and DOM; the runtime sits behind
 * DemoEngine (engine.ts).
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
import { cacheUsage, deleteCached, listCached } from '../src/app/cache.js';
import type { LoadProgressEvent } from '../src/app/types.js';
import { renderAnswers } from './answers.js';
import {
  drawHeatmap,
  heatGrid,
  regionWeights,
  type AttentionView,
  type RegionAttention,
} from './attention.js';
import { RuntimeEngine, type DemoEngine } from './engine.js';
import { decodePhoto, fetchPhoto, imageFrom, showPhoto, type Photo } from './photo.js';
import { startPwa } from './pwa.js';
import { renderRegions, type DemoRegion, type RegionView } from './regions.js';
import { DEFAULT_DETECTOR_URL, DEFAULT_MODEL_URL, parseParams } from './url_params.js';
import { vgNames } from './vg_names.js';

function $<T extends Element>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as unknown as T;
}

const ui = {
  update: $<HTMLDivElement>('update'),
  updateApply: $<HTMLButtonElement>('update-apply'),
  offlineReady: $<HTMLParagraphElement>('offline-ready'),
  drop: $<HTMLDivElement>('drop'),
  photoFile: $<HTMLInputElement>('photo-file'),
  photoCamera: $<HTMLInputElement>('photo-camera'),
  stage: $<HTMLDivElement>('stage'),
  photo: $<HTMLCanvasElement>('photo'),
  heat: $<HTMLCanvasElement>('heat'),
  boxes: $<SVGSVGElement>('boxes'),
  photoStatus: $<HTMLParagraphElement>('photo-status'),
  regions: $<HTMLOListElement>('regions'),
  features: $<HTMLDetailsElement>('features'),
  tsvFile: $<HTMLInputElement>('tsv-file'),
  imageId: $<HTMLSelectElement>('image-id'),
  askForm: $<HTMLFormElement>('ask-form'),
  question: $<HTMLInputElement>('question'),
  ask: $<HTMLButtonElement>('ask'),
  answers: $<HTMLOListElement>('answers'),
  askTime: $<HTMLSpanElement>('ask-time'),
  backendName: $<HTMLSpanElement>('backend-name'),
  attLayer: $<HTMLSelectElement>('att-layer'),
  attHead: $<HTMLSelectElement>('att-head'),
  attShow: $<HTMLInputElement>('att-show'),
  modelForm: $<HTMLFormElement>('model-form'),
  modelUrl: $<HTMLInputElement>('model-url'),
  detectorUrl: $<HTMLInputElement>('detector-url'),
  backend: $<HTMLSelectElement>('backend'),
  load: $<HTMLButtonElement>('load'),
  modelFiles: $<HTMLInputElement>('model-files'),
  progress: $<HTMLProgressElement>('load-progress'),
  modelStatus: $<HTMLParagraphElement>('model-status'),
  backendStatus: $<HTMLParagraphElement>('backend-status'),
  missing: $<HTMLDivElement>('missing'),
  storage: $<HTMLParagraphElement>('storage'),
  forget: $<HTMLButtonElement>('forget'),
  error: $<HTMLParagraphElement>('error'),
};

/** The image being asked about: its model input, regions, and the photo when there is one. */
interface Subject {
  visual: VisualInput;
  regions: DemoRegion[];
  /** Pixel size the region boxes refer to. */
  width: number;
  height: number;
}

const state: {
  engine: DemoEngine | null;
  /** What the engine was loaded from (model, detector, backend): reload when it changes. */
  engineKey: string;
  loading: Promise<DemoEngine> | null;
  photo: Photo | null;
  subject: Subject | null;
  view: RegionView | null;
  attention: RegionAttention | null;
  lines: Map<string, Obj36LineRef>;
  busy: number;
} = {
  engine: null,
  engineKey: '',
  loading: null,
  photo: null,
  subject: null,
  view: null,
  attention: null,
  lines: new Map(),
  busy: 0,
};

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
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

/** Run `task` with the controls that would race it disabled. */
async function busy<T>(task: () => Promise<T>): Promise<T> {
  state.busy++;
  refresh();
  try {
    return await task();
  } finally {
    state.busy--;
    refresh();
  }
}

function refresh(): void {
  const idle = state.busy === 0;
  ui.ask.disabled = !idle || !state.subject || ui.question.value.trim() === '';
  ui.load.disabled = !idle;
  ui.modelFiles.disabled = !idle;
  ui.answers.setAttribute('aria-busy', String(!idle));
}

// ---------------------------------------------------------------- models

/** The loader's overall byte progress (every file of the model). */
function showProgress(e: LoadProgressEvent): void {
  ui.progress.value = e.fraction;
  if (e.status === 'ready') return;
  ui.modelStatus.textContent = `Loading ${e.file}: ${mb(e.loadedBytes)} of ${mb(e.totalBytes)}`;
}

function engineKey(): string {
  return [ui.modelUrl.value.trim(), ui.detectorUrl.value.trim(), ui.backend.value].join('\n');
}

/** The two convert commands, shown when a default model folder is missing. */
function showMissing(what: string, url: string): void {
  ui.missing.hidden = false;
  ui.missing.replaceChildren(
    Object.assign(document.createElement('p'), {
      textContent:
        `No ${what} at ${url}. The default models are converted from the Hugging Face Hub ` +
        `into the site's weights/ folder:`,
    }),
    Object.assign(document.createElement('pre'), {
      textContent:
        'npx lxmert convert unc-nlp/lxmert-vqa-uncased weights/lxmert-vqa --dtype float16\n' +
        'npx lxmert convert unc-nlp/frcnn-vg-finetuned weights/frcnn-vg --dtype float16',
    }),
    Object.assign(document.createElement('p'), {
      textContent:
        'Or enter the URL of another converted folder below, or pick its files; ' +
        'precomputed obj36 features need no detector.',
    }),
  );
}

async function loadEngine(model: string | File[]): Promise<DemoEngine> {
  clearError();
  ui.missing.hidden = true;
  document.body.dataset.model = 'loading';
  const t0 = performance.now();
  ui.progress.value = 0;
  state.engine?.dispose();
  state.engine = null;
  try {
    const engine = await RuntimeEngine.load({
      model,
      detector: ui.detectorUrl.value.trim() || null,
      backend: ui.backend.value as BackendPreference,
      onProgress: showProgress,
      onWarning: (m) => {
        console.warn(`[lxmert] ${m}`);
        ui.backendStatus.textContent = m;
      },
    });
    state.engine = engine;
    state.engineKey = typeof model === 'string' ? engineKey() : 'picked files';
    ui.progress.value = 1;
    ui.modelStatus.textContent = `Loaded ${engine.summary} in ${ms(performance.now() - t0)}.`;
    ui.backendStatus.textContent = `Backend: ${engine.backend} (${engine.backendReason})`;
    ui.backendName.textContent = engine.backend;
    document.body.dataset.model = 'ready';
    const detErr = engine.detectorError;
    if (detErr) {
      const url = ui.detectorUrl.value.trim();
      if (detErr instanceof WeightsError && /HTTP 404/.test(detErr.message)) {
        showMissing('detector', url);
      } else {
        showError(detErr);
      }
      ui.modelStatus.textContent +=
        ' No detector: photos cannot be asked about, precomputed features can.';
    }
    document.body.dataset.backend = engine.backend.split(' ')[0];
    void showStorage();
    return engine;
  } catch (e) {
    ui.modelStatus.textContent = 'No model loaded.';
    document.body.dataset.model = 'error';
    if (typeof model === 'string' && e instanceof WeightsError && /HTTP 404/.test(e.message)) {
      showMissing('VQA model', model);
    }
    throw e;
  }
}

/** The engine for the current settings, loading it when they changed. */
function ensureEngine(): Promise<DemoEngine> {
  if (state.engine && state.engineKey === engineKey()) return Promise.resolve(state.engine);
  if (state.engine && state.engineKey === 'picked files') return Promise.resolve(state.engine);
  state.loading ??= loadEngine(ui.modelUrl.value.trim()).finally(() => (state.loading = null));
  return state.loading;
}

// ---------------------------------------------------------------- photo and regions

function setSubject(subject: Subject | null): void {
  state.subject = subject;
  state.attention = null;
  ui.answers.replaceChildren();
  ui.askTime.textContent = '';
  ui.heat.hidden = true;
  setAttentionControls(null);
  if (!subject) {
    ui.boxes.replaceChildren();
    ui.regions.replaceChildren();
    state.view = null;
  } else {
    state.view = renderRegions(ui.boxes, ui.regions, subject.regions, subject);
  }
  document.body.dataset.regions = String(subject?.regions.length ?? 0);
  refresh();
}

async function setPhoto(photo: Photo): Promise<void> {
  clearError();
  state.photo?.bitmap.close();
  state.photo = photo;
  const { width, height } = photo.bitmap;
  showPhoto(ui.photo, photo.bitmap);
  ui.stage.style.setProperty('--ar', `${width} / ${height}`);
  delete ui.stage.dataset.empty;
  ui.photoStatus.textContent = `${photo.name}: ${width}×${height} px`;
  if (ui.features.open && state.subject && state.lines.size > 0) {
    // Precomputed features in use: the photo is only shown under their boxes.
    setSubject(state.subject);
    return;
  }
  setSubject(null);
  document.body.dataset.detect = 'running';
  try {
    const engine = await ensureEngine();
    const det = await busy(() => engine.detect(photo.blob));
    setSubject({ visual: det.visual, regions: det.regions, width, height });
    ui.photoStatus.textContent = `${photo.name}: ${width}×${height} px, ${det.regions.length} regions in ${ms(det.ms)}`;
    document.body.dataset.detect = 'done';
  } catch (e) {
    document.body.dataset.detect = 'error';
    showError(e);
  }
}

async function takePhoto(blob: Blob | null | undefined, name: string): Promise<void> {
  if (!blob) return;
  try {
    await setPhoto(await decodePhoto(blob, name));
  } catch (e) {
    showError(e);
  }
}

// ---------------------------------------------------------------- obj36 features

async function loadTsv(file: File): Promise<void> {
  clearError();
  state.lines.clear();
  ui.imageId.replaceChildren();
  ui.imageId.disabled = true;
  try {
    const refs = indexObj36Tsv(await file.text(), file.name);
    for (const r of refs) {
      state.lines.set(r.imgId, r);
      ui.imageId.append(new Option(r.imgId, r.imgId));
    }
    ui.imageId.disabled = refs.length === 0;
    if (refs.length > 0) await selectImage(refs[0].imgId);
  } catch (e) {
    showError(e);
  }
}

async function selectImage(id: string): Promise<void> {
  clearError();
  const ref = state.lines.get(id);
  if (!ref) return;
  try {
    const img = parseObj36Line(ref.text, { where: `line ${ref.lineNumber}` });
    const names = await vgNames();
    const regions: DemoRegion[] = [...Array(img.numBoxes).keys()].map((i) => ({
      box: [img.boxes[4 * i], img.boxes[4 * i + 1], img.boxes[4 * i + 2], img.boxes[4 * i + 3]],
      objectId: img.objectsId[i],
      object: names.objects[img.objectsId[i]],
      attributeId: img.attrsId[i],
      attribute: names.attributes[img.attrsId[i]],
      score: img.objectsConf[i],
    }));
    ui.imageId.value = id;
    if (!state.photo) {
      ui.photo.width = img.imgW;
      ui.photo.height = img.imgH;
      ui.stage.style.setProperty('--ar', `${img.imgW} / ${img.imgH}`);
      delete ui.stage.dataset.empty;
    }
    setSubject({ visual: obj36VisualInput(img), regions, width: img.imgW, height: img.imgH });
    ui.photoStatus.textContent =
      `${img.imgId} (line ${ref.lineNumber}): ${img.imgW}×${img.imgH} px, ` +
      `${img.numBoxes} regions × ${img.featureDim} features`;
  } catch (e) {
    showError(e);
  }
}

// ---------------------------------------------------------------- ask and attention

async function ask(): Promise<void> {
  const subject = state.subject;
  const question = ui.question.value.trim();
  if (!subject || !question) return;
  clearError();
  document.body.dataset.answer = 'running';
  try {
    const engine = await ensureEngine();
    const r = await busy(() => engine.answer(question, subject.visual));
    renderAnswers(ui.answers, r.answers);
    ui.askTime.textContent = `${ms(r.ms)} (tokenize, forward, top-5) ·`;
    ui.backendName.textContent = engine.backend;
    state.attention = r.attention;
    setAttentionControls(r.attention);
    showAttention();
    document.body.dataset.answer = 'done';
  } catch (e) {
    document.body.dataset.answer = 'error';
    showError(e);
  }
}

function setAttentionControls(att: RegionAttention | null): void {
  ui.attLayer.disabled = ui.attHead.disabled = !att;
  if (!att) return;
  if (ui.attLayer.options.length !== att.layers) {
    ui.attLayer.replaceChildren(
      ...[...Array(att.layers).keys()].map(
        (i) => new Option(`${i + 1} of ${att.layers}`, String(i)),
      ),
    );
    ui.attLayer.value = String(att.layers - 1); // the last layer feeds the pooler
  }
  if (ui.attHead.options.length !== att.heads + 1) {
    ui.attHead.replaceChildren(
      new Option('mean of all heads', 'mean'),
      ...[...Array(att.heads).keys()].map((h) => new Option(`head ${h + 1}`, String(h))),
    );
  }
}

function attentionView(): AttentionView {
  const head = ui.attHead.value;
  return { layer: Number(ui.attLayer.value), head: head === 'mean' ? 'mean' : Number(head) };
}

function showAttention(): void {
  const att = state.attention;
  const subject = state.subject;
  if (!att || !subject) return;
  // Padding slots (a photo with fewer than 36 detections) have no region to draw.
  const weights = regionWeights(att, attentionView()).subarray(0, subject.regions.length);
  state.view?.setWeights(weights);
  ui.heat.hidden = !ui.attShow.checked;
  const boxes = new Float32Array(subject.regions.flatMap((r) => r.box));
  const grid = { w: 64, h: Math.max(1, Math.round((64 * subject.height) / subject.width)) };
  ui.heat.width = ui.photo.width;
  ui.heat.height = ui.photo.height;
  drawHeatmap(ui.heat.getContext('2d')!, heatGrid(boxes, weights, subject, grid), grid);
}

// ---------------------------------------------------------------- storage

async function showStorage(): Promise<void> {
  const [usage, models] = await Promise.all([cacheUsage(), listCached()]);
  const complete = models.filter((m) => m.complete).length;
  const total =
    usage.usage !== undefined && usage.quota !== undefined
      ? ` This site uses ${mb(usage.usage)} of ${mb(usage.quota)} available` +
        `${usage.persisted ? ' (persistent)' : ''}.`
      : '';
  ui.storage.textContent =
    `Downloaded models: ${models.length} (${complete} complete, usable offline), ` +
    `${mb(usage.bytes)}.${total}`;
  ui.forget.disabled = models.length === 0;
}

/** Delete every cached model (the app itself stays precached by the service worker). */
async function forgetModels(): Promise<void> {
  let freed = 0;
  for (const m of await listCached()) freed += await deleteCached(m.url);
  await showStorage();
  ui.storage.textContent = `Freed ${mb(freed)}. ${ui.storage.textContent}`;
}

// ---------------------------------------------------------------- wiring

ui.photoFile.addEventListener('change', () => void takePhoto(ui.photoFile.files?.[0], 'photo'));
ui.photoCamera.addEventListener(
  'change',
  () => void takePhoto(ui.photoCamera.files?.[0], 'camera photo'),
);
ui.drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.drop.classList.add('over');
});
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.drop.classList.remove('over');
  const f = imageFrom(e.dataTransfer);
  void takePhoto(f, f?.name ?? 'dropped photo');
});
document.addEventListener('paste', (e) => {
  const f = imageFrom(e.clipboardData);
  if (f) void takePhoto(f, 'pasted photo');
});
ui.tsvFile.addEventListener('change', () => {
  const file = ui.tsvFile.files?.[0];
  if (file) void loadTsv(file);
});
ui.imageId.addEventListener('change', () => void selectImage(ui.imageId.value));
ui.question.addEventListener('input', refresh);
ui.askForm.addEventListener('submit', (e) => {
  e.preventDefault();
  void ask();
});
for (const chip of document.querySelectorAll<HTMLButtonElement>('.examples .chip')) {
  chip.addEventListener('click', () => {
    ui.question.value = chip.textContent ?? '';
    refresh();
    if (!ui.ask.disabled) void ask();
    else ui.question.focus();
  });
}
ui.attLayer.addEventListener('change', showAttention);
ui.attHead.addEventListener('change', showAttention);
ui.attShow.addEventListener('change', () => {
  ui.heat.hidden = !ui.attShow.checked || !state.attention;
});
ui.modelForm.addEventListener('submit', (e) => {
  e.preventDefault();
  void busy(() => loadEngine(ui.modelUrl.value.trim())).catch(showError);
});
ui.modelFiles.addEventListener('change', () => {
  const files = [...(ui.modelFiles.files ?? [])];
  if (files.length > 0) void busy(() => loadEngine(files)).catch(showError);
});
ui.forget.addEventListener('click', () => void forgetModels().catch(showError));
ui.updateApply.addEventListener('click', () => ui.update.dispatchEvent(new Event('apply')));

/** Probe the default model folder so a missing one is explained before anyone waits on it. */
async function probeDefaults(): Promise<void> {
  for (const [what, input] of [
    ['VQA model', ui.modelUrl],
    ['detector', ui.detectorUrl],
  ] as const) {
    const url = input.value.trim();
    if (url !== DEFAULT_MODEL_URL && url !== DEFAULT_DETECTOR_URL) continue;
    const res = await fetch(new URL('model.json', new URL(url, location.href)), {
      method: 'HEAD',
    }).catch(() => null);
    if (res && res.status === 404) return showMissing(what, url);
  }
}

async function start(): Promise<void> {
  tf.enableProdMode();
  document.body.dataset.model = 'none';
  let params;
  try {
    params = parseParams(location.search);
  } catch (e) {
    showError(e);
    params = parseParams('');
  }
  ui.modelUrl.value = params.model;
  ui.detectorUrl.value = params.detector;
  ui.backend.value = params.backend;
  if (params.question) ui.question.value = params.question;
  refresh();
  ui.photoStatus.textContent = 'Preparing the app…';
  const reloading = await startPwa({
    onUpdate: (apply) => {
      ui.update.hidden = false;
      ui.update.addEventListener('apply', () => void apply(), { once: true });
    },
    onOfflineReady: () => (ui.offlineReady.hidden = false),
  }).catch((e: unknown) => {
    console.warn('service worker', e);
    return false;
  });
  if (reloading) return;
  ui.photoStatus.textContent = '';
  document.body.dataset.coi = String(crossOriginIsolated);
  document.body.dataset.ready = 'true';
  void showStorage();
  if (!params.autorun) return void probeDefaults();
  try {
    await busy(ensureEngine);
    if (params.image) await setPhoto(await fetchPhoto(params.image));
    if (state.subject && params.question) await ask();
  } catch (e) {
    showError(e);
  }
}

void start();
