import { defineConfig } from 'vitest/config';

// One config for the library build, the demo and the test runner.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
