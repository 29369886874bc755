#!/usr/bin/env node
/* global console, process, window, Buffer */
// Where the CPU goes during a load, from a Chromium trace (CDP Tracing, JSON event format).
// Per thread (all processes): busy time (the thread time of its top-level tasks), the event
// names with the most self time (GC, wasm compilation, the worker's script, the network
// service's work, ...), and, on threads that ran JavaScript, the functions with the most
// self time (the V8 sampling profiler's ProfileChunk events). Used by bench/app_load.mjs
// --trace; on its own:
//
//   node bench/trace_summary.mjs trace.json [--top 12]
import { createWriteStream, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

const CATEGORIES = [
  'toplevel',
  'v8',
  'v8.execute',
  'v8.wasm',
  'disabled-by-default-v8.wasm.detailed',
  'disabled-by-default-v8.compile',
  'disabled-by-default-v8.gc',
  'disabled-by-default-v8.cpu_profiler',
  'devtools.timeline',
  'blink',
  'loading',
  'net',
  '__metadata',
];

/** One load (`window.lxmertApp.run(runOptions)`) under a trace of the whole browser. */
export async function traceLoad(browser, page, runOptions, file) {
  const cdp = await browser.newBrowserCDPSession();
  await cdp.send('Tracing.start', {
    transferMode: 'ReturnAsStream',
    traceConfig: { includedCategories: CATEGORIES, recordMode: 'recordAsMuchAsPossible' },
  });
  const r = await page.evaluate((o) => window.lxmertApp.run(o), runOptions);
  const done = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.end');
  const { stream } = await done;
  const out = createWriteStream(file);
  for (;;) {
    const chunk = await cdp.send('IO.read', { handle: stream, size: 1 << 20 });
    out.write(chunk.base64Encoded ? Buffer.from(chunk.data, 'base64') : chunk.data);
    if (chunk.eof) break;
  }
  await cdp.send('IO.close', { handle: stream });
  await new Promise((resolve) => out.end(resolve));
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  console.log(
    `traced load: ready ${r.readyMs.toFixed(0)} ms, phases ${JSON.stringify(r.phases)}; ` +
      `trace in ${file}`,
  );
  console.log(summarize(JSON.parse(readFileSync(file, 'utf8'))));
}

/** The summary as text (times in ms). */
export function summarize(trace, top = 12) {
  const events = Array.isArray(trace) ? trace : trace.traceEvents;
  const key = (e) => `${e.pid}:${e.tid}`;
  const threadName = new Map();
  const processName = new Map();
  for (const e of events) {
    if (e.ph !== 'M') continue;
    if (e.name === 'thread_name') threadName.set(key(e), e.args.name);
    if (e.name === 'process_name') processName.set(e.pid, e.args.name);
  }
  // Complete events per thread (B/E pairs made complete), with thread time where recorded.
  const perThread = new Map();
  const open = new Map();
  const push = (k, ev) => {
    if (!perThread.has(k)) perThread.set(k, []);
    perThread.get(k).push(ev);
  };
  for (const e of events) {
    const k = key(e);
    if (e.ph === 'X') {
      push(k, { name: e.name, cat: e.cat, ts: e.ts, dur: e.dur ?? 0, tdur: e.tdur ?? e.dur ?? 0 });
    } else if (e.ph === 'B') {
      if (!open.has(k)) open.set(k, []);
      open.get(k).push(e);
    } else if (e.ph === 'E') {
      const b = open.get(k)?.pop();
      if (b) {
        push(k, {
          name: b.name,
          cat: b.cat,
          ts: b.ts,
          dur: e.ts - b.ts,
          tdur: b.tts !== undefined && e.tts !== undefined ? e.tts - b.tts : e.ts - b.ts,
        });
      }
    }
  }
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const list of perThread.values())
    for (const ev of list) {
      t0 = Math.min(t0, ev.ts);
      t1 = Math.max(t1, ev.ts + ev.dur);
    }
  const rows = [];
  for (const [k, list] of perThread) {
    list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    // self thread-time per name: a stack of enclosing events
    const self = new Map();
    const stack = [];
    let busy = 0;
    for (const ev of list) {
      while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= ev.ts) stack.pop();
      const parent = stack.at(-1);
      if (parent) parent.childT += ev.tdur;
      else {
        busy += ev.tdur;
        ev.top = true;
      }
      ev.childT = 0;
      stack.push(ev);
    }
    for (const ev of list) {
      const s = Math.max(0, ev.tdur - ev.childT);
      self.set(ev.name, (self.get(ev.name) ?? 0) + s);
    }
    const pid = Number(k.split(':')[0]);
    const tops = list.filter((ev) => ev.top);
    rows.push({
      k,
      name: `${processName.get(pid) ?? pid} / ${threadName.get(k) ?? k}`,
      busy,
      self,
      tops,
    });
  }
  rows.sort((a, b) => b.busy - a.busy);
  const ms = (us) => (us / 1000).toFixed(0);
  const lines = [
    `trace span ${ms(t1 - t0)} ms; busy (thread time of top-level events) per thread:`,
  ];
  for (const r of rows) {
    if (r.busy < 20_000) continue;
    const names = [...r.self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .filter(([, t]) => t >= 5_000)
      .map(([n, t]) => `${n} ${ms(t)}`)
      .join(', ');
    lines.push(`  ${r.name}: ${ms(r.busy)} ms — self: ${names}`);
  }
  // Over time: each busy thread's share of every `bucket` (thread time of its top-level
  // events, spread over their wall span), and all threads together (in cores).
  const bucket = 500_000;
  const n = Math.ceil((t1 - t0) / bucket);
  const shares = (r) => {
    const out = new Float64Array(n);
    for (const ev of r.tops) {
      const rate = ev.dur > 0 ? ev.tdur / ev.dur : 0;
      for (let b = Math.floor((ev.ts - t0) / bucket); b < n; b++) {
        const lo = Math.max(ev.ts, t0 + b * bucket);
        const hi = Math.min(ev.ts + ev.dur, t0 + (b + 1) * bucket);
        if (hi <= lo) break;
        out[b] += ((hi - lo) * rate) / bucket;
      }
    }
    return out;
  };
  const all = new Float64Array(n);
  const timeline = [];
  for (const r of rows) {
    const s = shares(r);
    s.forEach((x, i) => (all[i] += x));
    if (timeline.length < 3 && r.busy >= 1_000_000) timeline.push([r.name, s]);
  }
  const fmt = (s) => Array.from(s, (x) => x.toFixed(2).replace(/^0/, '')).join(' ');
  lines.push(`per ${bucket / 1000} ms from the first event:`);
  for (const [name, s] of timeline) lines.push(`  ${name}: ${fmt(s)}`);
  lines.push(`  all threads (cores): ${fmt(all)}`);
  // JavaScript (and wasm) functions by self time, per thread, from the sampling profiler.
  const profiles = new Map();
  for (const e of events) {
    if (e.ph !== 'P' || (e.name !== 'Profile' && e.name !== 'ProfileChunk')) continue;
    const id = `${e.pid}:${e.id}`;
    if (!profiles.has(id)) profiles.set(id, { thread: key(e), nodes: new Map(), self: new Map() });
    const p = profiles.get(id);
    if (e.name === 'Profile') p.thread = key(e);
    const data = e.args?.data;
    for (const n of data?.cpuProfile?.nodes ?? []) p.nodes.set(n.id, n.callFrame);
    const samples = data?.cpuProfile?.samples ?? [];
    const deltas = data?.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      p.self.set(samples[i], (p.self.get(samples[i]) ?? 0) + Math.max(0, deltas[i] ?? 0));
    }
  }
  for (const p of profiles.values()) {
    const byFn = new Map();
    let total = 0;
    for (const [id, t] of p.self) {
      const f = p.nodes.get(id);
      const name = f
        ? `${f.functionName || '(anonymous)'}${f.url ? ` ${basename(f.url.split('?')[0])}:${f.lineNumber + 1}` : ''}`
        : `node ${id}`;
      byFn.set(name, (byFn.get(name) ?? 0) + t);
      if (!/^\((idle|program)\)$/.test(f?.functionName ?? '')) total += t;
    }
    if (total < 20_000) continue;
    lines.push(
      `  JS on ${threadName.get(p.thread) ?? p.thread} (sampled, not idle: ${ms(total)} ms): ` +
        [...byFn]
          .sort((a, b) => b[1] - a[1])
          .slice(0, top + 8)
          .map(([n, t]) => `${n} ${ms(t)}`)
          .join(', '),
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '12' } },
  });
  console.log(summarize(JSON.parse(readFileSync(positionals[0], 'utf8')), Number(values.top)));
}
