#!/usr/bin/env node
/* global process, console, performance */
// Benchmark `lxmert convert` on a full-size random TF checkpoint (lxmert-base shapes, ~0.9 GB
// tf_model.h5, TFLxmertForPreTraining, made by scripts/make-random-tf-checkpoint.py with h5py
// when missing). Each dtype runs in a fresh Node process that reports its wall time, peak RSS
// (process.resourceUsage().maxRSS), its CPU time (user + system, whole process) and the size h5wasm's wasm memory grew to (it never
// shrinks, so that is its peak).
//
//   npm run build && node bench/convert_tf.mjs [--dtype float32,float16,int8] [--src DIR]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    dtype: { type: 'string', default: 'float32,float16,int8' },
    src: { type: 'string', default: join(root, 'weights', 'random-lxmert-base-tf') },
  },
});
if (!existsSync(join(values.src, 'tf_model.h5'))) {
  execFileSync(
    '/usr/bin/python3',
    [join(root, 'scripts', 'make-random-tf-checkpoint.py'), values.src],
    {
      stdio: 'inherit',
    },
  );
}
const srcBytes = statSync(join(values.src, 'tf_model.h5')).size;
const dist = (p) => JSON.stringify(join(root, 'dist', 'src', p));
const child = `
const { convertCheckpoint } = await import(${dist('weights/converter.js')});
const { h5wasm } = await import(${dist('weights/h5_fs.js')});
const t0 = performance.now();
const r = await convertCheckpoint(process.argv[1], process.argv[2], { dtype: process.argv[3] });
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage();
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const wasmBytes = (await h5wasm()).Module.HEAPU8.length;
console.log(JSON.stringify({ seconds, cpuSeconds, maxRssKiB: process.resourceUsage().maxRSS, wasmBytes,
  bytes: r.bytes, shards: r.manifest.shards.length }));`;

const work = mkdtempSync(join(tmpdir(), 'lxmert-bench-convert-tf-'));
const rows = [];
try {
  for (const dtype of values.dtype.split(',')) {
    const out = join(work, dtype);
    const t0 = performance.now();
    const res = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', child, values.src, out, dtype], {
        encoding: 'utf8',
      }),
    );
    res.processSeconds = (performance.now() - t0) / 1000;
    rows.push({ dtype, ...res });
    rmSync(out, { recursive: true, force: true });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const f32 = rows.find((r) => r.dtype === 'float32')?.bytes;
console.log(`source ${join(values.src, 'tf_model.h5')}: ${(srcBytes / 1e6).toFixed(1)} MB`);
console.log(
  '| dtype | output MB | × float32 | shards | convert s | process CPU s | peak RSS MB | wasm memory MB |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.dtype} | ${(r.bytes / 1e6).toFixed(1)} | ${f32 ? (r.bytes / f32).toFixed(3) : '-'} | ` +
      `${r.shards} | ${r.seconds.toFixed(1)} | ${r.cpuSeconds.toFixed(1)} | ` +
      `${(r.maxRssKiB / 1024).toFixed(0)} | ${(r.wasmBytes / 1048576).toFixed(0)} |`,
  );
}
