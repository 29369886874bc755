/**
 * Browser half of test/browser/detector.test.ts: on navigator.gpu (SwiftShader in headless
 * Chromium), decode a frcnn-narrow PNG with the browser's own decoder (createImageBitmap →
 * OffscreenCanvas), run GeneralizedRCNN end to end and compare with Hugging Face's goldens
 * (test/detector/e2e_checks.ts). The test calls window.frcnnEndToEnd(image) through Playwright.
 */
import * as tf from '@tensorflow/tfjs-core';
import { releaseWebGPU, selectBackend } from '../../../src/backend.js';
import { GeneralizedRCNN, parseFrcnnConfig, type RgbaImage } from '../../../src/detector/index.js';
import { readSafetensors } from '../../../src/weights/safetensors.js';
import { trackDispatches } from '../../../kernels/runtime/dispatch_counter.js';
import { endToEndFailures } from '../../detector/e2e_checks.js';

export interface DetectorReport {
  backend: string;
  reason: string;
  failures: string[];
  numDetections: number;
  dispatches: number;
  leaked: number;
  ms: number;
}

const BASE = '/test/fixtures/frcnn-narrow';

async function bytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** The PNG as RGBA through the browser's decoder, without colour-space conversion. */
async function decodePng(url: string): Promise<RgbaImage> {
  const blob = new Blob([(await bytes(url)) as BlobPart]);
  const bitmap = await createImageBitmap(blob, {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  return { width: data.width, height: data.height, data: data.data };
}

async function endToEnd(image: string): Promise<DetectorReport> {
  const sel = await selectBackend('webgpu');
  const config = parseFrcnnConfig(await (await fetch(`${BASE}/config.yaml`)).text());
  const weights = readSafetensors(await bytes(`${BASE}/model.safetensors`));
  const golden = readSafetensors(await bytes(`${BASE}/golden.safetensors`));
  const cases = await (await fetch(`${BASE}/cases.json`)).json();
  const rgba = await decodePng(`${BASE}/${image}.png`);
  const before = tf.memory().numTensors;
  const detector = GeneralizedRCNN.build(config, weights, { source: 'frcnn-narrow' });
  const afterBuild = tf.memory().numTensors;
  const counter = trackDispatches();
  const t0 = performance.now();
  const d = await detector.detect(rgba);
  const ms = performance.now() - t0;
  const dispatches = counter.stop().total;
  const leaked = tf.memory().numTensors - afterBuild;
  detector.dispose();
  const failures = endToEndFailures(
    d,
    (name) => {
      const t = golden.get(`${image}/${name}`);
      if (!t) throw new Error(`golden ${image}/${name} missing`);
      return t;
    },
    cases.tolerance.end_to_end,
  );
  const report: DetectorReport = {
    backend: sel.backend,
    reason: sel.reason,
    failures,
    numDetections: d.numDetections,
    dispatches,
    leaked: leaked + (tf.memory().numTensors - before),
    ms,
  };
  await releaseWebGPU();
  return report;
}

(window as unknown as { frcnnEndToEnd: typeof endToEnd }).frcnnEndToEnd = endToEnd;
