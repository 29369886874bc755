#!/usr/bin/env node
/* global process, console, URL, setTimeout, clearTimeout, window, performance */
// The browser benchmark in one command (results: BENCHMARKS.md):
//
//   node bench/browser/run.mjs [--runs 10] [--rounds 2] [--webgpu-runs 2] [--no-webgpu]
//                              [--no-ort] [--no-warm-up] [--onnx PATH]
//                              [--spin-us 0,200] [--profile RUNS] [--idle-ms 3000]
//
// Builds bench/browser/page with Vite, serves it cross-origin-isolated (COOP same-origin, COEP
// require-corp) from 127.0.0.1 together with tfjs-backend-wasm's and ONNX Runtime Web's .wasm
// files and the ONNX export of bench/torch_lxmert.py (made by bench/export_onnx.py into
// .bench/onnx/ when missing), drives Debian's /usr/bin/chromium headless with playwright-core,
// and prints progress on stderr and one JSON line on stdout: per configuration (lxmert-web wasm
// at 1 and navigator.hardwareConcurrency threads, ONNX Runtime Web wasm at the same counts,
// lxmert-web webgpu) ready → first answer, steady median, peak JS heap / tensor / GPU bytes,
// dispatches per layer kind on webgpu, and the lxmert/ORT ratios per round. --spin-us runs our
// wasm at > 1 thread once per helper spin bound (µs; GemmEngine.spinMicros), each its own
// configuration; --profile RUNS adds, per lxmert wasm configuration, where a forward's time goes
// (GEMM jobs: the caller's share and its wait, attention, copies, add_layer_norm, the rest
// outside the engine; jobs per forward; helper wake-up µs and units), over RUNS more forwards.
// After the answers of each lxmert configuration the page idles --idle-ms (default 3000; 0: no
// check) with the model loaded; idleCpu is the CPU time all of this browser's processes used
// meanwhile, in cores (1 = one core busy): threads spinning while nothing runs would show here.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { embedWgslPlugin } from '../../scripts/embed-wgsl.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function fail(message) {
  process.stderr.write(`bench/browser: ${message}\n`);
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '2' },
      'webgpu-runs': { type: 'string', default: '2' },
      'no-webgpu': { type: 'boolean', default: false },
      'no-ort': { type: 'boolean', default: false },
      'no-warm-up': { type: 'boolean', default: false },
      onnx: { type: 'string', default: join(ROOT, '.bench', 'onnx', 'lxmert-vqa.onnx') },
      'spin-us': { type: 'string', default: '' },
      profile: { type: 'string', default: '0' },
      'idle-ms': { type: 'string', default: '3000' },
    },
  }).values;
} catch (e) {
  fail(e.message);
}
const count = (name, min) => {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < min || n > 1000)
    fail(`--${name}: expected an integer in [${min}, 1000], got '${args[name]}'`);
  return n;
};
const spinUs = args['spin-us'] === '' ? [] : args['spin-us'].split(',').map(Number);
if (spinUs.some((n) => !Number.isInteger(n) || n < 0 || n > 100_000))
  fail(`--spin-us: expected integers in [0, 100000] separated by commas, got '${args['spin-us']}'`);
const options = {
  runs: count('runs', 1),
  profileRuns: count('profile', 0),
  idleMs: Number(args['idle-ms']),
  spinUs,
  rounds: count('rounds', 1),
  webgpuRuns: count('webgpu-runs', 1),
  webgpu: !args['no-webgpu'],
  ort: !args['no-ort'],
  warmUp: !args['no-warm-up'],
  onnxUrl: '/onnx/model.onnx',
};
if (!Number.isInteger(options.idleMs) || options.idleMs < 0 || options.idleMs > 60_000)
  fail(`--idle-ms: expected an integer in [0, 60000], got '${args['idle-ms']}'`);
if (!existsSync(CHROMIUM))
  fail(`${CHROMIUM} is missing (apt-get install chromium, or set CHROMIUM_PATH)`);

const onnxPath = resolve(args.onnx);
if (options.ort && !existsSync(onnxPath)) {
  process.stderr.write(`bench/browser: exporting ${onnxPath} (bench/export_onnx.py)\n`);
  const py = process.env.PY ?? '/usr/bin/python3';
  const r = spawnSync(py, [join(ROOT, 'bench', 'export_onnx.py'), '--out', onnxPath], {
    stdio: 'inherit',
  });
  if (r.status !== 0) fail(`bench/export_onnx.py failed (exit ${r.status}); needs python3-torch`);
}

const outDir = join(ROOT, '.bench', 'browser', 'dist');
await build({
  root: join(ROOT, 'bench', 'browser', 'page'),
  configFile: false,
  // kernels/wgsl_sources.ts is generated (git-ignored): written here on a fresh clone.
  plugins: [embedWgslPlugin()],
  logLevel: 'warn',
  base: '/',
  // Not minified: tfjs-backend-wasm hands its threaded factory's source text (toString()) to its
  // pthread workers, and a minifier renames what that text refers to ("e is not defined").
  build: {
    outDir,
    emptyOutDir: true,
    minify: false,
    target: 'es2022',
    chunkSizeWarningLimit: 8192,
  },
  worker: { format: 'es' },
});

const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.map': 'application/json',
};
/** URL prefix → folder; files are served only from inside these folders. */
const MOUNTS = [
  ['/tfjs-wasm/', join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')],
  ['/ort/', join(ROOT, 'node_modules', 'onnxruntime-web', 'dist')],
  ['/', outDir],
];

function resolveFile(urlPath) {
  if (urlPath === options.onnxUrl) return onnxPath;
  for (const [prefix, dir] of MOUNTS) {
    if (!urlPath.startsWith(prefix)) continue;
    const rel = decodeURIComponent(urlPath.slice(prefix.length)) || 'index.html';
    const file = resolve(dir, rel);
    return file.startsWith(dir + sep) ? file : null;
  }
  return null;
}

const server = createServer((req, res) => {
  const file = resolveFile(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  if (!file || !existsSync(file) || !statSync(file).isFile()) {
    process.stderr.write(`bench/browser: 404 ${req.url}\n`);
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': statSync(file).size,
  });
  createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/index.html`;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    '--no-sandbox',
    '--headless=new',
    '--enable-unsafe-webgpu',
    '--enable-features=Vulkan',
    '--use-webgpu-adapter=swiftshader',
    '--enable-precise-memory-info',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
/**
 * Peak JS heap per configuration: while a configuration runs, every worker target's
 * Runtime.getHeapUsage (CDP) is polled; the largest sum over the configuration's workers (its
 * engine worker and the WASM threads' workers) is kept. backingStorageSize is what V8 reports
 * for ArrayBuffer backing stores (WASM memories included).
 */
class HeapWatch {
  constructor(cdp) {
    this.cdp = cdp;
    this.sessions = new Map(); // targetId → sessionId
    this.pending = new Map(); // message id → resolve
    this.nextId = 1;
    this.current = null;
    this.peaks = {};
    cdp.on('Target.receivedMessageFromTarget', (e) => {
      const m = JSON.parse(e.message);
      if (m.id && this.pending.has(m.id)) {
        this.pending.get(m.id)(m.result ?? null);
        this.pending.delete(m.id);
      }
    });
  }
  ask(sessionId, method) {
    const id = this.nextId++;
    return new Promise((resolveAsk) => {
      this.pending.set(id, resolveAsk);
      this.cdp
        .send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) })
        .catch(() => resolveAsk(null));
      setTimeout(() => {
        if (this.pending.delete(id)) resolveAsk(null);
      }, 1000);
    });
  }
  async poll() {
    if (!this.current || this.paused) return;
    const { targetInfos } = await this.cdp.send('Target.getTargets');
    let used = 0;
    let backing = 0;
    for (const t of targetInfos.filter((i) => i.type === 'worker')) {
      if (!this.sessions.has(t.targetId)) {
        const r = await this.cdp
          .send('Target.attachToTarget', { targetId: t.targetId, flatten: false })
          .catch(() => null);
        if (!r) continue;
        this.sessions.set(t.targetId, r.sessionId);
      }
      const h = await this.ask(this.sessions.get(t.targetId), 'Runtime.getHeapUsage');
      if (h) {
        used += h.usedSize;
        backing += h.backingStorageSize ?? 0;
      }
    }
    const p = (this.peaks[this.current] ??= { usedJsHeapBytes: 0, backingStoreBytes: 0 });
    p.usedJsHeapBytes = Math.max(p.usedJsHeapBytes, used);
    p.backingStoreBytes = Math.max(p.backingStoreBytes, backing);
  }
  start() {
    const loop = async () => {
      await this.poll().catch(() => {});
      if (!this.stopped) this.timer = setTimeout(loop, 100);
    };
    this.timer = setTimeout(loop, 100);
  }
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

/** CPU seconds (user + system) used so far by this process's descendants (the browser). */
function browserCpuSeconds() {
  const parent = new Map();
  const ticks = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(f[1]));
      ticks.set(Number(name), Number(f[11]) + Number(f[12]));
    } catch {
      // gone meanwhile
    }
  }
  let sum = 0;
  for (const [pid, t] of ticks) {
    let p = parent.get(pid);
    while (p && p !== process.pid) p = parent.get(p);
    if (p === process.pid) sum += t;
  }
  return sum / 100; // USER_HZ
}

/** Per configuration: cores busy while its page idled (see --idle-ms). */
const idleCpu = {};
let idleFrom = null;

let summary;
let heapWatch;
try {
  const page = await browser.newPage();
  heapWatch = new HeapWatch(await browser.newBrowserCDPSession());
  heapWatch.start();
  page.on('console', (m) => {
    const text = m.text();
    const start = /^config-start (\S+)$/.exec(text);
    if (start) heapWatch.current = start[1];
    else if (text.startsWith('config-end ')) heapWatch.current = null;
    else if (text === 'idle-start') {
      heapWatch.paused = true; // its polling would be the browser's work
      idleFrom = [performance.now(), browserCpuSeconds()];
    } else if (text === 'idle-end' && idleFrom && heapWatch.current) {
      const [t0, cpu0] = idleFrom;
      const cores = (browserCpuSeconds() - cpu0) / ((performance.now() - t0) / 1000);
      idleCpu[heapWatch.current] = Number(cores.toFixed(3));
      process.stderr.write(`page: ${heapWatch.current} idle: ${cores.toFixed(3)} cores busy\n`);
      heapWatch.paused = false;
    } else process.stderr.write(`page: ${text}\n`);
  });
  page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
  await page.goto(url);
  await page.waitForFunction(() => 'lxmertBench' in window, undefined, { timeout: 60_000 });
  summary = await page.evaluate((o) => window.lxmertBench(o), options);
} finally {
  heapWatch?.stop();
  await browser.close();
  server.close();
}
const { results, ...rest } = summary;
const cpu = spawnSync('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], {
  encoding: 'utf8',
});
console.log(
  JSON.stringify({
    date: new Date().toISOString(),
    machine: `${cpu.stdout.trim()}, ${(await import('node:os')).cpus().length} CPUs`,
    options,
    ...rest,
    peakJsHeap: heapWatch.peaks,
    idleCpu,
    results,
  }),
);
if (summary.errors.length) process.exitCode = 1;
