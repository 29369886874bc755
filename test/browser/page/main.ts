/**
 * Browser half of test/browser/webgpu.test.ts: on navigator.gpu (SwiftShader in headless
 * Chromium), build a golden fixture's model and compare every output of every case with Hugging
 * Face's goldens. The test calls window.lxmertParity(model) through Playwright.
 */
import * as tf from '@tensorflow/tfjs-core';
import { releaseWebGPU, selectBackend } from '../../../src/backend.js';
import { configFromHf } from '../../../src/config.js';
import { buildModel } from '../../../src/model/index.js';
import { toFloat32, toInt32 } from '../../../src/codec/raw_tensor.js';
import { readSafetensors } from '../../../src/weights/safetensors.js';
import { trackDispatches } from '../../../kernels/runtime/dispatch_counter.js';

interface CaseMeta {
  name: string;
  inputs: { name: string; tensor: string; shape: number[] }[];
  outputs: { name: string; tensor: string; shape: number[] }[];
}

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

const KEYS: Record<string, string> = {
  input_ids: 'inputIds',
  attention_mask: 'attentionMask',
  token_type_ids: 'tokenTypeIds',
  visual_feats: 'visualFeats',
  visual_pos: 'visualPos',
  visual_attention_mask: 'visualAttentionMask',
};

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
    cases: CaseMeta[];
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
    const inputs: Record<string, tf.Tensor> = {};
    for (const i of c.inputs) {
      const raw = golden.get(i.tensor)!;
      const key = KEYS[i.name];
      const asInt = raw.dtype.startsWith('I') && (key === 'inputIds' || key === 'tokenTypeIds');
      inputs[key] = asInt
        ? tf.tensor(toInt32(raw), raw.shape, 'int32')
        : tf.tensor(toFloat32(raw), raw.shape, 'float32');
    }
    const before = tf.memory().numTensors;
    const counter = trackDispatches();
    const out = net.forward(inputs as never, {
      outputHiddenStates: true,
      outputAttentions: true,
      outputEmbeddings: true,
      validate: false,
    });
    report.dispatches = counter.stop().total;
    for (const o of c.outputs) {
      const name = o.tensor.slice(c.name.length + 1);
      const t = out[name];
      if (!t) {
        report.failures.push(`${c.name}/${name}: missing`);
        continue;
      }
      const got = await t.data();
      const ref = toFloat32(golden.get(o.tensor)!);
      let num = 0;
      let den = 0;
      let maxAbs = 0;
      for (let i = 0; i < ref.length; i++) {
        const d = got[i] - ref[i];
        num += d * d;
        den += ref[i] * ref[i];
        maxAbs = Number.isNaN(d) ? Infinity : Math.max(maxAbs, Math.abs(d));
      }
      const rel = Math.sqrt(num / (den || 1));
      report.outputs++;
      report.worstRelL2 = Math.max(report.worstRelL2, rel);
      report.worstMaxAbs = Math.max(report.worstMaxAbs, maxAbs);
      if (!(rel <= relL2Bound && maxAbs <= meta.tolerance.max_abs)) {
        report.failures.push(`${c.name}/${name}: rel_l2 ${rel.toExponential(2)} max_abs ${maxAbs}`);
      }
    }
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
