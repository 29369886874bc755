#!/usr/bin/env node
/* global process, console, window, URL, performance, setTimeout */
// LxmertVqa.load in headless Chromium against a local server: time to `ready` (fetch, sha256,
// decode, wasm backend start, build, warm-up, in the worker, cache off) versus the time the
// same page takes to merely download the same files (4 at a time, bodies read to the end).
// Runs alternate in one page; medians are printed, per server bandwidth: unthrottled, and
// paced to each --mbit rate (one token bucket over all connections, as a link would be).
// Also: where the time went inside the worker (LoadInfo.phases, medians), and the first and
// steady answer after ready. The model is a seeded random LXMERT of lxmert-base widths
// (hidden 768, 12 heads, 30522 tokens, 3129 answers) with 2/1/1 layers, converted to float16
// (weights/bench-app-float16, made on the first run).
//
//   npm run build && node bench/app_load.mjs [--runs 3] [--mbit 100,400] [--built]
//     [--dtype float16] [--backend wasm] [--trace trace.json]
//
// --trace FILE: instead of the runs, one unthrottled load under a Chromium trace (all
// processes and threads: CDP Tracing over the browser's session), written to FILE and
// summarized per thread and, for JavaScript, per function (bench/trace_summary.mjs).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { build, createServer as createVite, preview } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', 'src', p));
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    dtype: { type: 'string', default: 'float16' },
    backend: { type: 'string', default: 'wasm' },
    mbit: { type: 'string', default: '100,400' },
    built: { type: 'boolean', default: false },
    trace: { type: 'string' },
  },
});

const src = join(root, 'weights', 'bench-app-src');
const out = join(root, 'weights', `bench-app-${values.dtype}`);
if (!existsSync(join(out, 'model.json'))) {
  const { expectedWeights } = await dist('model/weight_names.js');
  const { configFromHf } = await dist('config.js');
  const { writeSafetensors } = await dist('weights/safetensors.js');
  const { convertCheckpoint } = await dist('weights/converter.js');
  const hf = {
    architectures: ['LxmertForQuestionAnswering'],
    model_type: 'lxmert',
    vocab_size: 30522,
    hidden_size: 768,
    num_attention_heads: 12,
    num_qa_labels: 3129,
    num_object_labels: 1600,
    num_attr_labels: 400,
    intermediate_size: 3072,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: 512,
    type_vocab_size: 2,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    l_layers: 2,
    x_layers: 1,
    r_layers: 1,
    visual_feat_dim: 2048,
    visual_pos_dim: 4,
  };
  const cfg = configFromHf(hf);
  let state = 12345;
  const rand = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 4294967296 - 0.5) * 0.04;
  const tensors = new Map();
  for (const w of expectedWeights(cfg, 'LxmertForQuestionAnswering')) {
    const f = new Float32Array(w.shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < f.length; i++) f[i] = rand();
    tensors.set(w.name, { dtype: 'F32', shape: w.shape, bytes: new Uint8Array(f.buffer) });
  }
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'config.json'), JSON.stringify(hf));
  writeFileSync(join(src, 'model.safetensors'), writeSafetensors(tensors));
  writeFileSync(
    join(src, 'vocab.txt'),
    readFileSync(join(root, 'data', 'bert-base-uncased-vocab.txt')),
  );
  await convertCheckpoint(src, out, { dtype: values.dtype });
}
const manifest = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
const files = [...manifest.shards, manifest.vocab, manifest.labels]
  .filter(Boolean)
  .map((f) => f.path);
const bytes = [...manifest.shards, manifest.vocab, manifest.labels]
  .filter(Boolean)
  .reduce((a, f) => a + f.bytes, 0);

// Pacing: 0 = unthrottled; else every 64 KiB chunk of every response waits for its slot on
// one shared link of this many bits per second.
let bitsPerSecond = 0;
let linkFreeAt = 0;
const CHUNK = 64 << 10;
function send(res, body) {
  if (!bitsPerSecond) return void res.end(body);
  let off = 0;
  const next = () => {
    if (off >= body.byteLength) return void res.end();
    const chunk = body.subarray(off, off + CHUNK);
    off += chunk.byteLength;
    const now = performance.now();
    linkFreeAt = Math.max(now, linkFreeAt) + (chunk.byteLength * 8 * 1000) / bitsPerSecond;
    setTimeout(() => res.write(chunk, next), Math.max(0, linkFreeAt - now));
  };
  next();
}
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  let body;
  try {
    body = readFileSync(join(out, path.replace(/^\/m\//, '')));
  } catch {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, {
    'access-control-allow-origin': '*',
    'cross-origin-resource-policy': 'cross-origin',
    'content-length': body.byteLength,
  });
  send(res, body);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/m/`;

// The test page from Vite's dev server, or (--built) built as a static site and served by
// `vite preview` (one bundle per thread, as a deployed app loads it). Both cross-origin isolated.
let vite;
let pageUrl;
if (values.built) {
  const outDir = mkdtempSync(join(tmpdir(), 'lxmert-bench-app-'));
  await build({
    root,
    configFile: join(root, 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir, emptyOutDir: true, rollupOptions: { input: 'test/app/page/index.html' } },
  });
  vite = await preview({
    root,
    configFile: join(root, 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0 },
  });
  pageUrl = `http://127.0.0.1:${vite.httpServer.address().port}/test/app/page/index.html`;
} else {
  vite = await createVite({
    root,
    configFile: join(root, 'vite.config.ts'),
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, hmr: false },
    optimizeDeps: { entries: ['test/app/page/main.ts', 'src/app/worker.ts'] },
  });
  await vite.listen();
  pageUrl = `http://127.0.0.1:${vite.httpServer.address().port}/test/app/page/index.html`;
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless=new', '--disable-gpu'],
});
const page = await browser.newPage();
await page.goto(pageUrl, { timeout: 120_000 });
await page.waitForFunction(() => 'lxmertApp' in window, undefined, { timeout: 120_000 });
const runOptions = {
  model: base,
  backend: values.backend,
  worker: true,
  cache: false,
  synthetic: { featureDim: 2048, boxes: 36, answers: 3 },
};
// warm-up: the worker's modules and the wasm binary are compiled once
const first = await page.evaluate((o) => window.lxmertApp.run(o), runOptions);
if (!first.ok) throw new Error(JSON.stringify(first.error));
if (values.trace) {
  const { traceLoad } = await import('./trace_summary.mjs');
  await traceLoad(browser, page, runOptions, values.trace);
  await browser.close();
  await (vite.close?.() ?? new Promise((r) => vite.httpServer.close(r)));
  server.close();
  process.exit(0);
}
// CPU the whole machine spent (all processes: Chromium's, this server's, the kernel's), in
// seconds, from /proc/stat (Linux; null elsewhere): run under the CPU lock, it is ours.
function cpuSeconds() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1);
    const [user, nice, system, , , irq, softirq, steal] = f.map(Number);
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return null;
  }
}
// CPU per thread of every process (Linux /proc; empty elsewhere), by process kind and thread
// name: Chromium's renderer / network service / browser, this Node process (server, Vite).
function threadTicks() {
  const out = new Map();
  let pids;
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let kind;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (/chrom/.test(cmd)) {
        const type = /--type=([\w-]+)/.exec(cmd)?.[1] ?? 'browser';
        const sub = /--utility-sub-type=([\w.]+)/.exec(cmd)?.[1];
        kind = `chromium ${sub ? sub.replace(/\.mojom\.\w+$/, '') : type}`;
      } else if (Number(pid) === process.pid) kind = 'bench node (server, vite)';
      else kind = 'other';
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const close = st.lastIndexOf(')');
        const name = st.slice(st.indexOf('(') + 1, close).replace(/\d+$/, '#');
        const f = st.slice(close + 2).split(' ');
        out.set(`${pid}/${tid}`, { group: `${kind}: ${name}`, ticks: +f[11] + +f[12] });
      }
    } catch {
      // the process or thread ended meanwhile
    }
  }
  return out;
}
function ticksBetween(a, b) {
  const by = new Map();
  for (const [k, v] of b) {
    const d = v.ticks - (a.get(k)?.ticks ?? 0);
    if (d > 0) by.set(v.group, (by.get(v.group) ?? 0) + d / 100);
  }
  return [...by]
    .sort((x, y) => y[1] - x[1])
    .filter(([, s]) => s >= 0.05)
    .map(([g, s]) => `${g} ${s.toFixed(2)}`)
    .join(', ');
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rates = [0, ...values.mbit.split(',').filter(Boolean).map(Number)];
const results = [];
for (const mbit of rates) {
  bitsPerSecond = mbit * 1e6;
  const dl = [];
  const ready = [];
  const phases = [];
  const answers = [];
  const cpuDl = [];
  const cpuLoad = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const th0 = threadTicks();
    const c0 = cpuSeconds();
    dl.push(await page.evaluate(([b, f]) => window.lxmertApp.download(b, f), [base, files]));
    const c1 = cpuSeconds();
    const th1 = threadTicks();
    const r = await page.evaluate((o) => window.lxmertApp.run(o), runOptions);
    const c2 = cpuSeconds();
    const th2 = threadTicks();
    if (th0.size) {
      console.log(`  CPU s by thread, download: ${ticksBetween(th0, th1)}`);
      console.log(`  CPU s by thread, load + answers: ${ticksBetween(th1, th2)}`);
    }
    if (c0 !== null) {
      cpuDl.push(c1 - c0);
      cpuLoad.push(c2 - c1);
    }
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    ready.push(r.readyMs);
    phases.push(r.phases);
    answers.push(r.answerMs);
    const p = r.phases;
    console.log(
      `${mbit ? `${mbit} Mbit/s` : 'unthrottled'} run ${i + 1}: download ${dl.at(-1).toFixed(0)} ms, ` +
        `ready ${r.readyMs.toFixed(0)} ms (backend at ${p.backendAt}, files announced at ` +
        `${p.filesAnnouncedAt}, last byte at ${p.lastByteAt}, built at ${p.builtAt}, ready at ` +
        `${p.readyAt}; sha256 ${p.hashMs} ms in all, warm-up ${p.warmUpMs} ms); answers ` +
        r.answerMs.map((x) => x.toFixed(0)).join(', ') +
        ' ms' +
        (cpuDl.length
          ? `; CPU (all processes) download ${cpuDl.at(-1).toFixed(1)} s, load + answers ` +
            `${cpuLoad.at(-1).toFixed(1)} s`
          : ''),
    );
  }
  const m = (k) => median(phases.map((p) => p[k]));
  const d = median(dl);
  const r = median(ready);
  results.push({
    mbit: mbit || 'unthrottled',
    downloadMs: Math.round(d),
    readyMs: Math.round(r),
    ratio: Number((r / d).toFixed(2)),
    phases: {
      backendAt: m('backendAt'),
      filesAnnouncedAt: m('filesAnnouncedAt'),
      lastByteAt: m('lastByteAt'),
      builtAt: m('builtAt'),
      readyAt: m('readyAt'),
      hashMs: m('hashMs'),
      warmUpMs: m('warmUpMs'),
    },
    cpuSeconds: cpuDl.length
      ? { download: Number(median(cpuDl).toFixed(1)), load: Number(median(cpuLoad).toFixed(1)) }
      : undefined,
    firstAnswerMs: Math.round(median(answers.map((a) => a[0]))),
    steadyAnswerMs: Math.round(median(answers.map((a) => median(a.slice(1))))),
  });
}
const os = await import('node:os');
console.log(
  JSON.stringify({
    model: `lxmert ${values.dtype} hidden 768, 2/1/1 layers`,
    bytes,
    files: files.length,
    backend: values.backend,
    results,
    cpuCores: os.cpus().length,
    loadavg: os.loadavg().map((x) => Number(x.toFixed(1))),
  }),
);
await browser.close();
await (vite.close?.() ?? new Promise((r) => vite.httpServer.close(r)));
server.close();
