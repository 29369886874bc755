#!/usr/bin/env node
/* global process, console */
// Bundles bench/gpu/webgpu_bench.ts and detector_bench.ts into one ES module each for Node
// (.bench/gpu/bench.mjs, detector.mjs): every
// dependency inlined except the `webgpu` package (Dawn's native addon, carried beside it).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { embedWgsl } from '../../scripts/embed-wgsl.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = process.argv[2] ?? join(root, '.bench', 'gpu');
mkdirSync(outDir, { recursive: true });
embedWgsl(); // kernels/wgsl_sources.ts is built, not committed

for (const [entry, name] of [
  ['bench/gpu/webgpu_bench.ts', 'bench.mjs'],
  ['bench/gpu/detector_bench.ts', 'detector.mjs'],
]) {
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    ssr: { noExternal: true, external: ['webgpu'] },
    build: {
      ssr: join(root, entry),
      outDir,
      emptyOutDir: false,
      target: 'node20',
      minify: false,
      rollupOptions: {
        external: ['webgpu', /^node:/],
        output: { entryFileNames: name, codeSplitting: false, format: 'es' },
      },
    },
  });
}
console.log(`bench bundles: ${join(outDir, 'bench.mjs')}, ${join(outDir, 'detector.mjs')}`);
