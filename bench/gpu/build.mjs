#!/usr/bin/env node
/* global process, console */
// Bundles bench/gpu/webgpu_bench.ts into one ES module for Node (.bench/gpu/bench.mjs): every
// dependency inlined except the `webgpu` package (Dawn's native addon, carried beside it).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = process.argv[2] ?? join(root, '.bench', 'gpu');
mkdirSync(outDir, { recursive: true });

await build({
  root,
  configFile: false,
  logLevel: 'warn',
  ssr: { noExternal: true, external: ['webgpu'] },
  build: {
    ssr: join(root, 'bench/gpu/webgpu_bench.ts'),
    outDir,
    emptyOutDir: false,
    target: 'node20',
    minify: false,
    rollupOptions: {
      external: ['webgpu', /^node:/],
      output: { entryFileNames: 'bench.mjs', codeSplitting: false, format: 'es' },
    },
  },
});
console.log(`bench bundle: ${join(outDir, 'bench.mjs')}`);
