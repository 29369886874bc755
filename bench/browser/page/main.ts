/**
 * The browser benchmark page (driven by bench/browser/run.mjs): runs every configuration in a
 * fresh dedicated worker of this one cross-origin-isolated page, in rounds that alternate
 * lxmert-web and ONNX Runtime Web at each thread count, and sums up medians and ratios.
 */
import type { EngineRequest, EngineResult } from './engine.js';

export interface BenchOptions {
  /** Timed answers per configuration and round, after the first answer. */
  runs: number;
  rounds: number;
  /** Timed answers on webgpu (SwiftShader here: tens of seconds each at full size). */
  webgpuRuns: number;
  webgpu: boolean;
  ort: boolean;
  warmUp: boolean;
  onnxUrl: string;
  /** Helper spin bounds (µs) to run lxmert wasm with at > 1 thread, each its own configuration
   * (`-spin<µs>` in its name); empty: the engine's default only. */
  spinUs: number[];
  /** Forwards per lxmert wasm configuration under the GEMM engine's profile (0: none). */
  profileRuns: number;
  /** Idle time after the answers of each lxmert configuration (the driver measures CPU). */
  idleMs: number;
}

export interface BenchSummary {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  userAgent: string;
  adapter: string | null;
  results: EngineResult[];
  /** Per configuration: the median over rounds of its per-round medians. */
  medianMs: Record<string, number>;
  /** lxmert-web wasm / ORT Web wasm at the same thread count, per round and over rounds. */
  ratios: Record<string, { perRound: number[]; overall: number }>;
  /** first answer / steady median, per configuration (the last round's). */
  firstOverSteady: Record<string, number>;
  errors: string[];
}

function runInWorker(req: EngineRequest): Promise<EngineResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    w.onmessage = (e: MessageEvent<{ ok: boolean; result?: EngineResult; error?: string }>) => {
      w.terminate();
      if (e.data.ok) resolve(e.data.result!);
      else reject(new Error(e.data.error));
    };
    w.onerror = (e) => {
      w.terminate();
      reject(new Error(`worker error: ${e.message}`));
    };
    w.postMessage(req);
  });
}

function med(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function adapterName(): Promise<string | null> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const a = gpu ? await gpu.requestAdapter() : null;
  return a ? `${a.info.vendor}/${a.info.architecture} ${a.info.description}`.trim() : null;
}

async function bench(o: BenchOptions): Promise<BenchSummary> {
  const hc = navigator.hardwareConcurrency || 1;
  const threadCounts = [...new Set([1, hc])];
  const base = { batch: 1, tokens: 20, boxes: 36, onnxUrl: o.onnxUrl, warmUp: o.warmUp };
  const summary: BenchSummary = {
    crossOriginIsolated,
    hardwareConcurrency: hc,
    userAgent: navigator.userAgent,
    adapter: await adapterName(),
    results: [],
    medianMs: {},
    ratios: {},
    firstOverSteady: {},
    errors: [],
  };
  const perName = new Map<string, number[]>();
  const record = (name: string, r: EngineResult) => {
    r.name = name;
    summary.results.push(r);
    perName.set(name, [...(perName.get(name) ?? []), r.medianMs]);
    summary.firstOverSteady[name] = r.firstMs / r.medianMs;
    console.log(
      `${name}: first ${r.firstMs.toFixed(0)} ms, median ${r.medianMs.toFixed(1)} ms ` +
        `(load ${r.loadMs.toFixed(0)} ms)`,
    );
    const p = r.profile;
    if (p) {
      const f = (n: number) => n.toFixed(1);
      console.log(
        `${name} per forward: ${f(p.forwardMs)} ms = gemm ${f(p.gemmMs)} ms in ${f(p.gemmJobs)} ` +
          `jobs (caller ${f(p.callerWorkMs)} + wait ${f(p.callerWaitMs)}, gemm+attn), ` +
          `attention ${f(p.attentionMs)} ms in ${f(p.attentionJobs)}, single-thread ` +
          `${f(p.singleMs)} ms in ${f(p.singleJobs)}, copies ${f(p.copyInMs)}+${f(p.copyOutMs)}, ` +
          `add_layer_norm ${f(p.addLayerNormMs)}, engine ${f(p.engineMs)}, hooks ` +
          `${f(p.hooksMs)} (tensors in/out ${f(p.hooksMs - p.engineMs)}), outside the hooks ` +
          `${f(p.outsideHooksMs)}; ` +
          `helper units ${f(p.helperUnits)}/${f(p.units)}, missed ${f(p.helperMissed)} jobs, ` +
          `wake-up median ${p.wakeUs.median.toFixed(0)} µs (p90 ${p.wakeUs.p90.toFixed(0)})`,
      );
    }
  };
  const attempt = async (name: string, req: EngineRequest) => {
    console.log(`config-start ${name}`); // the driver's heap watch attributes workers by these
    try {
      record(name, await runInWorker(req));
    } catch (e) {
      summary.errors.push(`${name}: ${(e as Error).message}`);
      console.log(`${name}: FAILED ${(e as Error).message}`);
    } finally {
      console.log(`config-end ${name}`);
    }
  };
  for (let round = 0; round < o.rounds; round++) {
    for (const threads of threadCounts) {
      const common = {
        ...base,
        threads,
        runs: o.runs,
        layerDispatches: false,
        spinUs: null,
        profileRuns: o.profileRuns,
        idleMs: o.idleMs,
      };
      const lxmert = { ...common, engine: 'lxmert', backend: 'wasm' } as const;
      if (threads === 1 || o.spinUs.length === 0) await attempt(`lxmert-wasm-${threads}t`, lxmert);
      for (const spinUs of threads > 1 ? o.spinUs : [])
        await attempt(`lxmert-wasm-${threads}t-spin${spinUs}`, { ...lxmert, spinUs });
      if (o.ort)
        await attempt(`ort-wasm-${threads}t`, { ...common, engine: 'ort', backend: 'wasm' });
    }
  }
  if (o.webgpu) {
    await attempt('lxmert-webgpu', {
      ...base,
      engine: 'lxmert',
      backend: 'webgpu',
      threads: 0,
      runs: o.webgpuRuns,
      layerDispatches: true,
      spinUs: null,
      profileRuns: 0,
      idleMs: 0,
    });
  }
  for (const [name, ms] of perName) summary.medianMs[name] = med(ms);
  for (const threads of threadCounts) {
    const theirs = perName.get(`ort-wasm-${threads}t`);
    for (const [name, ours] of perName) {
      if (!name.startsWith(`lxmert-wasm-${threads}t`)) continue;
      if (!theirs || ours.length !== theirs.length) continue;
      summary.ratios[`${name.replace('lxmert-wasm-', 'lxmert/ort wasm ')}`] = {
        perRound: ours.map((m, i) => m / theirs[i]),
        overall: med(ours) / med(theirs),
      };
    }
  }
  return summary;
}

(window as unknown as { lxmertBench: typeof bench }).lxmertBench = bench;
