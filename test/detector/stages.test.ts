/** frcnn-narrow stage-isolated tests on cpu and wasm (see stage_suite.ts). */
import { beforeAll, describe } from 'vitest';
import { useBackend } from '../helpers/backends.js';
import { stageSuite } from './stage_suite.js';

for (const backend of ['cpu', 'wasm'] as const) {
  describe(backend, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });
    stageSuite(backend, () => true);
  });
}
