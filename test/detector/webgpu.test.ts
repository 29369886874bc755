/**
 * frcnn-narrow stage-isolated tests on webgpu (Dawn; SwiftShader here), both images: every stage
 * that runs on the device (RPN head, RoIPool, res5 in chunks, predictor, the softmax/argmax/gather
 * of the selection). The host-only stages run on cpu/wasm (stages.test.ts); end to end on
 * webgpu runs in headless Chromium (test/browser/detector.test.ts): res5 over 300 regions takes
 * minutes on SwiftShader. Skipped when no WebGPU; LXMERT_REQUIRE_WEBGPU=1 (CI) makes that fail.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { releaseWebGPU } from '../../src/backend.js';
import { useWebGPU } from '../kernels/webgpu_env.js';
import { stageSuite } from './stage_suite.js';

let ready = false;
beforeAll(async () => {
  ready = (await useWebGPU()) !== null;
});
afterAll(async () => {
  await releaseWebGPU();
});

describe('webgpu', () => {
  stageSuite('webgpu', () => ready, {
    images: ['img_a', 'img_b'],
    hostStages: false,
    chunked: { rows: 11, chunk: 5 }, // chunks of 4, the last padded by 1
  });
});
