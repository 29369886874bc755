#!/usr/bin/env node
/* global process, console, performance */
// Benchmark `lxmert convert` on a full-size random checkpoint (lxmert-base shapes), made when
// missing: `--from pt` (default) a ~900 MB pytorch_model.bin by scripts/make-random-checkpoint.mjs,
// `--from tf` a ~0.9 GB tf_model.h5 (TFLxmertForPreTraining) by scripts/make-random-tf-checkpoint.py
// with h5py. Each dtype runs in a fresh Node process that reports its wall time, peak RSS
// (process.resourceUsage().maxRSS), its CPU time (user + system, whole process) and, for tf, the
// size h5wasm's wasm memory grew to (it never shrinks, so that is its peak); then the output
// sizes are compared.
//
//   npm run build && node bench/convert.mjs [--from pt|tf] [--dtype float32,float16,int8] [--src DIR]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Per source format: the checkpoint file, its default folder, and the command that makes it. */
const FORMATS = {
  pt: {
    file: 'pytorch_model.bin',
    src: join(root, 'weights', 'random-lxmert-base'),
    make: [process.execPath, join(root, 'scripts', 'make-random-checkpoint.mjs')],
  },
  tf: {
    file: 'tf_model.h5',
    src: join(root, 'weights', 'random-lxmert-base-tf'),
    make: ['/usr/bin/python3', join(root, 'scripts', 'make-random-tf-checkpoint.py')],
  },
};
const { values } = parseArgs({
  options: {
    from: { type: 'string', default: 'pt' },
    dtype: { type: 'string', default: 'float32,float16,int8' },
    src: { type: 'string' },
  },
});
const format = FORMATS[values.from];
if (!format) {
  console.error(`bench/convert: --from: expected pt or tf, got '${values.from}'`);
  process.exit(1);
}
const src = values.src ?? format.src;
const checkpoint = join(src, format.file);
if (!existsSync(checkpoint)) {
  const [command, ...args] = format.make;
  execFileSync(command, [...args, src], { stdio: 'inherit' });
}
const srcBytes = statSync(checkpoint).size;
const dist = (p) => JSON.stringify(join(root, 'dist', 'src', p));
// h5wasm's memory is read only for tf: importing it for a pt run would add to that run's RSS
const wasmBytes =
  values.from === 'tf'
    ? `(await (await import(${dist('weights/h5_fs.js')})).h5wasm()).Module.HEAPU8.length`
    : 'undefined';
const child = `
const { convertCheckpoint } = await import(${dist('weights/converter.js')});
const t0 = performance.now();
const r = await convertCheckpoint(process.argv[1], process.argv[2], { dtype: process.argv[3] });
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage();
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const wasmBytes = ${wasmBytes};
console.log(JSON.stringify({ seconds, cpuSeconds, maxRssKiB: process.resourceUsage().maxRSS, wasmBytes,
  bytes: r.bytes, shards: r.manifest.shards.length }));`;

const work = mkdtempSync(join(tmpdir(), `lxmert-bench-convert-${values.from}-`));
const rows = [];
try {
  for (const dtype of values.dtype.split(',')) {
    const out = join(work, dtype);
    const t0 = performance.now();
    const res = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', child, src, out, dtype], {
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
const tf = values.from === 'tf';
console.log(`source ${checkpoint}: ${(srcBytes / 1e6).toFixed(1)} MB`);
console.log(
  '| dtype | output MB | × float32 | shards | convert s | process s | process CPU s | peak RSS MB |' +
    (tf ? ' wasm memory MB |' : ''),
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |' + (tf ? ' --- |' : ''));
for (const r of rows) {
  console.log(
    `| ${r.dtype} | ${(r.bytes / 1e6).toFixed(1)} | ${f32 ? (r.bytes / f32).toFixed(3) : '-'} | ` +
      `${r.shards} | ${r.seconds.toFixed(1)} | ${r.processSeconds.toFixed(1)} | ` +
      `${r.cpuSeconds.toFixed(1)} | ${(r.maxRssKiB / 1024).toFixed(0)} |` +
      (tf ? ` ${(r.wasmBytes / 1048576).toFixed(0)} |` : ''),
  );
}
