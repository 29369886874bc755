/**
 * Browser half of test/browser/webgpu.test.ts: on navigator.gpu (SwiftShader in headless
 * Chromium), build a golden fixture's model and compare every output of every case with Hugging
 * Face's goldens. The test calls window.lxmertParity(model) through Playwright.
 */
import * as tf from '@tensorflow/tfjs-core';
import { releaseWebGPU, selectBackend } from '../../../src/backend.js';
import { configFromHf } from '../../../src/config.js';
import { buildModel } from '../../../src/model/index.js';
import { readSafetensors } from '../../../src/weights/safetensors.js';
import { trackDispatches } from '../../../kernels/runtime/dispatch_counter.js';
import { compareCase, goldenInputs, type GoldenCase } from '../../helpers/compare.js';

export interface ParityReport {
  backend: string;
  reason: string;
  cases: number;
  outputs: number;
  worstRelL2: number;
  worstMaxAbs: number;
  failures: string[];
  dispatches: number;
  leaked: number;
}

async function bytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function parity(model: string, relL2Bound: number): Promise<ParityReport> {
  const sel = await selectBackend('webgpu');
  const base = `/test/fixtures/${model}`;
  const cfg = configFromHf(await (await fetch(`${base}/config.json`)).json());
  const meta = (await (await fetch(`${base}/cases.json`)).json()) as {
    cases: GoldenCase[];
    tolerance: { max_abs: number };
  };
  const golden = readSafetensors(await bytes(`${base}/golden.safetensors`));
  const net = buildModel(cfg, readSafetensors(await bytes(`${base}/model.safetensors`)));
  const report: ParityReport = {
    backend: sel.backend,
    reason: sel.reason,
    cases: 0,
    outputs: 0,
    worstRelL2: 0,
    worstMaxAbs: 0,
    failures: [],
    dispatches: 0,
    leaked: 0,
  };
  for (const c of meta.cases) {
    const inputs = goldenInputs(golden, c);
    const before = tf.memory().numTensors;
    const counter = trackDispatches();
    const out = net.forward(inputs, {
      outputHiddenStates: true,
      outputAttentions: true,
      outputEmbeddings: true,
      validate: false,
    });
    report.dispatches = counter.stop().total;
    const r = await compareCase(golden, c, out, {
      maxAbs: meta.tolerance.max_abs,
      relL2: relL2Bound,
    });
    report.outputs += r.outputs;
    report.worstRelL2 = Math.max(report.worstRelL2, r.worst.relL2);
    report.worstMaxAbs = Math.max(report.worstMaxAbs, r.worst.maxAbs);
    report.failures.push(...r.failures.map((f) => `${c.name}/${f}`));
    tf.dispose(Object.values(out));
    report.leaked += tf.memory().numTensors - before;
    tf.dispose(Object.values(inputs));
    report.cases++;
  }
  net.dispose();
  await releaseWebGPU();
  return report;
}

(window as unknown as { lxmertParity: typeof parity }).lxmertParity = parity;
