/**
 * WebGPU benchmark of LXMERT's VQA path (encoders + pooler + answer head) at lxmert-base shapes
 * with seeded random weights: fused kernels vs the same kernels stream by stream (`ungrouped`,
 * before issue 11's grouping) vs stock tf.js ops (`--no-fused`) in the same run,
 * dispatches per forward and per layer, GPU bytes. Prints a table, or one JSON line (--json).
 *
 *   node bench.mjs [--preset base|tiny] [--batch 1] [--tokens 20] [--boxes 36] [--runs 20]
 *                  [--warmup 3] [--backend webgpu|auto|wasm|cpu] [--json]
 *
 * Built into one file by bench/gpu/build.mjs; bench/gpu/run.sh runs it (and HF's PyTorch LXMERT
 * through hf_lxmert.py) on a GPU machine or here on SwiftShader.
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { releaseWebGPU, selectBackend, type BackendPreference } from '../../src/backend.js';
import { DEFAULT_CONFIG, type LxmertConfig } from '../../src/config.js';
import {
  LxmertForQuestionAnswering,
  LxmertModel,
  randomWeightSource,
  type LxmertInputs,
} from '../../src/model/index.js';
import { dispatchesPerLayerKind, forwardDispatches } from '../../src/model/dispatches.js';
import { GROUPED_KERNELS_FLAG, setFusedKernels } from '../../kernels/ops.js';
import {
  gpuMemory,
  trackDispatches,
  type DispatchStats,
} from '../../kernels/runtime/dispatch_counter.js';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'base' },
    batch: { type: 'string', default: '1' },
    tokens: { type: 'string', default: '20' },
    boxes: { type: 'string', default: '36' },
    runs: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'webgpu' },
    json: { type: 'boolean', default: false },
  },
});

const TINY: Partial<LxmertConfig> = {
  hiddenSize: 64,
  numAttentionHeads: 4,
  intermediateSize: 128,
  vocabSize: 512,
  visualFeatDim: 48,
  maxPositionEmbeddings: 64,
};

function config(overrides: Partial<LxmertConfig> = {}): LxmertConfig {
  const base = args.preset === 'tiny' ? { ...DEFAULT_CONFIG, ...TINY } : DEFAULT_CONFIG;
  return { ...base, numQaLabels: 3129, architectures: [], id2label: null, ...overrides };
}

function inputs(cfg: LxmertConfig, b: number, l: number, v: number): LxmertInputs {
  return tf.tidy(() => {
    const xy = tf.randomUniform([b, v, 2], 0, 0.5, 'float32', 2);
    const wh = tf.randomUniform([b, v, 2], 0.05, 0.5, 'float32', 3);
    return {
      inputIds: tf.randomUniform([b, l], 1, cfg.vocabSize, 'int32', 1) as tf.Tensor2D,
      visualFeats: tf.randomUniform([b, v, cfg.visualFeatDim], 0, 1, 'float32', 4) as tf.Tensor3D,
      visualPos: tf.concat([xy, tf.add(xy, wh)], 2) as tf.Tensor3D,
      attentionMask: tf.ones([b, l], 'int32') as tf.Tensor2D,
    };
  });
}

/** One forward of the VQA path, read back (the read is the sync point). */
async function forward(model: LxmertForQuestionAnswering, x: LxmertInputs): Promise<void> {
  const scores = model.answerScores(x, { validate: false });
  await scores.data();
  scores.dispose();
}

interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  dispatches: number;
  byProgram: Record<string, number>;
}

/**
 * 'fused': our kernels (grouped: both streams of a cross layer per dispatch); 'ungrouped': our
 * kernels one stream at a time, dense and add + LayerNorm apart (the kernels before issue 11's
 * grouping); 'stock': stock tf.js ops (`--no-fused`).
 */
type Mode = 'fused' | 'ungrouped' | 'stock';

function setMode(mode: Mode): void {
  setFusedKernels(mode !== 'stock');
  tf.env().set(GROUPED_KERNELS_FLAG, mode === 'fused');
}

async function time(
  model: LxmertForQuestionAnswering,
  x: LxmertInputs,
  mode: Mode,
): Promise<Timing> {
  setMode(mode);
  for (let i = 0; i < Number(args.warmup); i++) await forward(model, x);
  const counter = trackDispatches();
  await forward(model, x);
  const stats: DispatchStats = counter.stop();
  const ms: number[] = [];
  for (let i = 0; i < Number(args.runs); i++) {
    const t0 = performance.now();
    await forward(model, x);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return {
    medianMs: ms[Math.floor(ms.length / 2)],
    minMs: ms[0],
    maxMs: ms[ms.length - 1],
    dispatches: stats.total,
    byProgram: stats.byProgram,
  };
}

/** Dispatches of one LxmertModel forward (no head) with the given layer counts, tiny widths. */
async function dispatchesFor(l: number, r: number, x: number, mode: Mode): Promise<number> {
  const cfg = {
    ...DEFAULT_CONFIG,
    ...TINY,
    lLayers: l,
    rLayers: r,
    xLayers: x,
    architectures: [],
    id2label: null,
  };
  const model = new LxmertModel(cfg, randomWeightSource(1));
  const inp = inputs(cfg, 1, Number(args.tokens), Number(args.boxes));
  setMode(mode);
  const n = await forwardDispatches(model, inp);
  tf.dispose(Object.values(inp));
  model.dispose();
  return n;
}

/** Per language / vision / cross layer, by differencing forwards with one more layer. */
async function perLayer(
  mode: Mode,
): Promise<{ language: number; vision: number; cross: number; rest: number }> {
  return dispatchesPerLayerKind((l, r, x) => dispatchesFor(l, r, x, mode));
}

async function main(): Promise<void> {
  const log: string[] = [];
  const sel = await selectBackend(args.backend as BackendPreference, { log: (m) => log.push(m) });
  const [b, l, v] = [Number(args.batch), Number(args.tokens), Number(args.boxes)];
  const cfg = config();
  const t0 = performance.now();
  const model = new LxmertForQuestionAnswering(cfg, randomWeightSource(0));
  const x = inputs(cfg, b, l, v);
  await forward(model, x); // uploads the weights
  const buildMs = performance.now() - t0;
  const gpuAfterLoad = gpuMemory();
  const fused = await time(model, x, 'fused');
  const ungrouped = await time(model, x, 'ungrouped');
  const stock = await time(model, x, 'stock');
  const gpuPeak = gpuMemory();
  setMode('fused');
  tf.dispose(Object.values(x));
  model.dispose();
  const layersFused = await perLayer('fused');
  const layersUngrouped = await perLayer('ungrouped');
  const layersStock = await perLayer('stock');
  setMode('fused');
  const result = {
    backend: sel.backend,
    reason: sel.reason,
    adapter: sel.adapterInfo ?? null,
    shaderF16: sel.f16,
    preset: args.preset,
    shape: { batch: b, tokens: l, boxes: v },
    layers: { l: cfg.lLayers, r: cfg.rLayers, x: cfg.xLayers },
    buildAndFirstForwardMs: Math.round(buildMs),
    fused,
    ungrouped,
    stock,
    speedup: stock.medianMs / fused.medianMs,
    groupedSpeedup: ungrouped.medianMs / fused.medianMs,
    dispatchesPerLayer: { fused: layersFused, ungrouped: layersUngrouped, stock: layersStock },
    gpuBytes: { afterLoad: gpuAfterLoad, afterBench: gpuPeak },
    log,
    date: new Date().toISOString(),
  };
  await releaseWebGPU();
  if (args.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const f = (t: Timing) =>
    `${t.medianMs.toFixed(2)} ms (min ${t.minMs.toFixed(2)}, max ${t.maxMs.toFixed(2)}), ${t.dispatches} dispatches`;
  console.log(`backend: ${sel.backend} — ${sel.reason}`);
  console.log(
    `shape: batch ${b}, ${l} tokens, ${v} boxes, preset ${args.preset} (l/r/x ${cfg.lLayers}/${cfg.rLayers}/${cfg.xLayers})`,
  );
  console.log(`fused:     ${f(fused)}`);
  console.log(`ungrouped: ${f(ungrouped)} (our kernels stream by stream, as before issue 11)`);
  console.log(`no-fused:  ${f(stock)}`);
  console.log(`speedup:   ${result.speedup.toFixed(2)}× over no-fused`);
  console.log(`grouping:  ${result.groupedSpeedup.toFixed(2)}× over ungrouped`);
  const pl = (p: typeof layersFused) =>
    `language ${p.language}, vision ${p.vision}, cross ${p.cross}, rest ${p.rest}`;
  console.log(`dispatches per layer, fused:     ${pl(layersFused)}`);
  console.log(`dispatches per layer, ungrouped: ${pl(layersUngrouped)}`);
  console.log(`dispatches per layer, no-fused:  ${pl(layersStock)}`);
  console.log(`GPU bytes in use after load: ${gpuAfterLoad?.bytesInUse ?? 'n/a'}`);
}

main().catch(async (e: unknown) => {
  console.error(`webgpu_bench: ${(e as Error).stack ?? String(e)}`);
  await releaseWebGPU();
  process.exitCode = 1;
});
