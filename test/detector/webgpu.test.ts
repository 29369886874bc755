/**
 * frcnn-narrow on webgpu (Dawn; SwiftShader here): every stage-isolated test, and img_a end to
 * end (SwiftShader is slow; both images run end to end on wasm, img_a on cpu). Skipped when no
 * WebGPU; LXMERT_REQUIRE_WEBGPU=1 (CI) makes that a failure.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { releaseWebGPU } from '../../src/backend.js';
import { useWebGPU } from '../kernels/webgpu_env.js';
import { detectAndCheck } from './e2e_suite.js';
import { stageSuite } from './stage_suite.js';

let ready = false;
beforeAll(async () => {
  ready = (await useWebGPU()) !== null;
});
afterAll(async () => {
  await releaseWebGPU();
});

describe('webgpu', () => {
  stageSuite('webgpu', () => ready);

  it("img_a end to end: proposals and the 36 regions match HF's", async ({ skip }) => {
    if (!ready) skip();
    await detectAndCheck('img_a');
  }, 300_000);
});
