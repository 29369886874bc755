import { defineConfig } from 'vitest/config';
import { tfjsWasmThreads } from './src/app/vite_plugin.js';

/**
 * Cross-origin isolation (COOP + COEP) on the dev and preview servers: SharedArrayBuffer, hence
 * tfjs-backend-wasm's threaded SIMD build, needs it. A static host must send the same two
 * headers (README, "Threads").
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// One config for the demo page (index.html → demo/dist; dist/ is tsc's library output, which
// bin/lxmert.js runs from) and the test runner.
export default defineConfig({
  plugins: [tfjsWasmThreads()],
  // the model's worker is an ES module worker (it imports tf.js backends on demand)
  worker: { format: 'es', plugins: () => [tfjsWasmThreads()] },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  build: { outDir: 'demo/dist', emptyOutDir: true, chunkSizeWarningLimit: 4096 },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
