#!/usr/bin/env node
/* global process, console, performance */
// Benchmark `lxmert convert` on a full-size random checkpoint (lxmert-base shapes, ~900 MB
// pytorch_model.bin, made by scripts/make-random-checkpoint.mjs when missing). Each dtype runs
// in a fresh Node process that reports its wall time and peak RSS
// (process.resourceUsage().maxRSS), then the output sizes are compared.
//
//   npm run build && node bench/convert.mjs [--dtype float32,float16,int8] [--src DIR]
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
    src: { type: 'string', default: join(root, 'weights', 'random-lxmert-base') },
  },
});
if (!existsSync(join(values.src, 'pytorch_model.bin'))) {
  execFileSync(
    process.execPath,
    [join(root, 'scripts', 'make-random-checkpoint.mjs'), values.src],
    { stdio: 'inherit' },
  );
}
const srcBytes = statSync(join(values.src, 'pytorch_model.bin')).size;
const converter = join(root, 'dist', 'src', 'weights', 'converter.js');
const child = `
const { convertCheckpoint } = await import(${JSON.stringify(converter)});
const t0 = performance.now();
const r = await convertCheckpoint(process.argv[1], process.argv[2], { dtype: process.argv[3] });
console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, maxRssKiB: process.resourceUsage().maxRSS,
  bytes: r.bytes, shards: r.manifest.shards.length }));`;

const work = mkdtempSync(join(tmpdir(), 'lxmert-bench-convert-'));
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
console.log(`source ${join(values.src, 'pytorch_model.bin')}: ${(srcBytes / 1e6).toFixed(1)} MB`);
console.log('| dtype | output MB | × float32 | shards | convert s | process s | peak RSS MB |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const ratio = f32 ? (r.bytes / f32).toFixed(3) : '-';
  console.log(
    `| ${r.dtype} | ${(r.bytes / 1e6).toFixed(1)} | ${ratio} | ${r.shards} | ${r.seconds.toFixed(1)} | ` +
      `${r.processSeconds.toFixed(1)} | ${(r.maxRssKiB / 1024).toFixed(0)} |`,
  );
}
