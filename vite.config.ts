import { defineConfig } from 'vitest/config';

// One config for the demo page (index.html → demo/dist; dist/ is tsc's library output, which
// bin/lxmert.js runs from) and the test runner.
export default defineConfig({
  build: { outDir: 'demo/dist', emptyOutDir: true, chunkSizeWarningLimit: 2048 },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
