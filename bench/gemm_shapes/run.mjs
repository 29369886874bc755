#!/usr/bin/env node
/* global process, console, URL, window */
// Per-shape GEMM benchmark, our WASM kernel vs ONNX Runtime Web's MatMul + Add, one thread, in
// Chromium (relaxed SIMD) and in Node (SIMD128; relaxed SIMD too, with
// --experimental-wasm-relaxed-simd on Node 20), in one command (results: BENCHMARKS.md, issue 11):
//
//   node bench/gemm_shapes/run.mjs [--rounds 7] [--no-browser] [--no-node]
//
// Builds shapes.ts twice with Vite (a page for Chromium, a module for Node), serves the page from
// 127.0.0.1 with ONNX Runtime Web's .wasm files, and prints progress on stderr and one JSON line
// on stdout: per runtime and shape, GFLOP/s of ORT and of each of our instruction sets, ours ÷
// ORT, and the largest difference between the two outputs.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { build } from 'vite';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function fail(message) {
  process.stderr.write(`bench/gemm_shapes: ${message}\n`);
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    options: {
      rounds: { type: 'string', default: '7' },
      'no-browser': { type: 'boolean', default: false },
      'no-node': { type: 'boolean', default: false },
    },
  }).values;
} catch (e) {
  fail(e.message);
}
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100)
  fail(`--rounds: expected an integer in [1, 100], got '${args.rounds}'`);
if (!args['no-browser'] && !existsSync(CHROMIUM))
  fail(`${CHROMIUM} is missing (apt-get install chromium, or set CHROMIUM_PATH)`);

const out = { date: new Date().toISOString(), machine: '', loadavg: loadavg(), rounds };
out.machine = `${cpus()[0]?.model.trim()}, ${cpus().length} CPUs`;

if (!args['no-node']) {
  const nodeDir = join(ROOT, '.bench', 'gemm_shapes', 'node');
  await build({
    configFile: false,
    logLevel: 'warn',
    build: {
      ssr: join(HERE, 'shapes.ts'),
      outDir: nodeDir,
      emptyOutDir: true,
      rollupOptions: { output: { format: 'es', entryFileNames: 'shapes.mjs' } },
    },
  });
  process.stderr.write('bench/gemm_shapes: Node\n');
  const driver = `
    import * as ort from 'onnxruntime-web';
    import { gemmVariants, runShapes } from ${JSON.stringify(pathToFileURL(join(nodeDir, 'shapes.mjs')).href)};
    const rows = await runShapes(ort, gemmVariants(), { rounds: ${rounds} });
    console.log(JSON.stringify(rows));`;
  const r = spawnSync(
    process.execPath,
    ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', driver],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (r.status !== 0) fail(`the Node run failed (exit ${r.status})`);
  out.node = { version: process.version, rows: JSON.parse(r.stdout.trim().split('\n').pop()) };
}

if (!args['no-browser']) {
  const outDir = join(ROOT, '.bench', 'gemm_shapes', 'page');
  await build({
    root: join(HERE, 'page'),
    configFile: false,
    logLevel: 'warn',
    base: '/',
    build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 8192 },
  });
  const mounts = [
    ['/ort/', join(ROOT, 'node_modules', 'onnxruntime-web', 'dist')],
    ['/', outDir],
  ];
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    let file = null;
    for (const [prefix, dir] of mounts) {
      if (!path.startsWith(prefix)) continue;
      const f = resolve(dir, decodeURIComponent(path.slice(prefix.length)) || 'index.html');
      file = f.startsWith(dir + sep) ? f : null;
      break;
    }
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type':
        extname(file) === '.wasm'
          ? 'application/wasm'
          : (types[extname(file)] ?? 'application/octet-stream'),
      'Content-Length': statSync(file).size,
    });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless=new', '--disable-background-networking', '--no-first-run'],
  });
  try {
    process.stderr.write('bench/gemm_shapes: Chromium\n');
    const page = await browser.newPage();
    page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
    await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
    await page.waitForFunction(() => 'gemmShapes' in window, undefined, { timeout: 60_000 });
    const rows = await page.evaluate((o) => window.gemmShapes(o), { rounds });
    out.chromium = { version: browser.version(), rows };
  } finally {
    await browser.close();
    server.close();
  }
}
out.loadavgAfter = loadavg();
console.log(JSON.stringify(out));
