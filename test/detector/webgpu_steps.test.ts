/**
 * The detector's structure on webgpu (Dawn; SwiftShader here), issue 9 item 8: no read-back to
 * the CPU inside the backbone, RoIPool or res5, counted per step by meterSteps while one whole
 * detect() runs. frcnn-narrow's weights on img_a with a small input (min_size_test 64: 64×85,
 * res4 4×6) and 24 proposals in two res5 chunks, so SwiftShader takes seconds; the graph, and so
 * the dispatches and read-backs per step, do not depend on the image size, except res5's
 * number of chunks. Skipped when no WebGPU; LXMERT_REQUIRE_WEBGPU=1 (CI) makes that fail.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BINDING_BYTES_FLAG } from '../../kernels/flags.js';
import { releaseWebGPU } from '../../src/backend.js';
import {
  frcnnWidths,
  GeneralizedRCNN,
  meterSteps,
  regionChunkRows,
  type FrcnnConfig,
} from '../../src/detector/index.js';
import { useWebGPU } from '../kernels/webgpu_env.js';
import { fixtureImage, frcnnFixture } from './fixture.js';

let ready = false;
beforeAll(async () => {
  ready = (await useWebGPU()) !== null;
});
afterAll(async () => {
  tf.env().set(MAX_BINDING_BYTES_FLAG, 0);
  await releaseWebGPU();
});

describe('webgpu detector structure', () => {
  it('reads nothing back inside backbone, RoIPool and res5; the host steps do', async (ctx) => {
    if (!ready) return ctx.skip();
    const f = frcnnFixture();
    const config: FrcnnConfig = {
      ...f.config,
      minSizeTest: 64,
      maxSizeTest: 107,
      rpn: { ...f.config.rpn, postNmsTopkTest: 24 },
    };
    const w = frcnnWidths(config);
    const perRow = config.roiBoxHead.poolerResolution ** 2 * 9 * w.bottleneck[3] * 4;
    tf.env().set(MAX_BINDING_BYTES_FLAG, 12 * perRow); // 12 regions per chunk: 2 chunks
    expect(regionChunkRows(config)).toBe(12);

    const before = tf.memory().numTensors;
    const detector = GeneralizedRCNN.build(config, f.weights, { source: 'frcnn-narrow' });
    const afterBuild = tf.memory().numTensors;
    const meter = meterSteps();
    const d = await detector
      .detect(fixtureImage('img_a'), { onStep: meter.onStep })
      .finally(() => meter.stop());
    const steps = await meter.stop();
    expect(tf.memory().numTensors).toBe(afterBuild);
    detector.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(d.imageSize).toEqual([64, 85]);
    expect(d.proposals.length / 4).toBe(24);

    // The device steps: work issued, nothing read back.
    for (const s of ['backbone', 'roiPool', 'res5'] as const) {
      expect(steps[s].dispatches, `${s} dispatches`).toBeGreaterThan(0);
      expect([s, steps[s].readBacks]).toEqual([s, 0]);
    }
    // Two chunks: RoIPool and res5 issue the same work twice (res5 also the chunks' concat).
    expect(steps.roiPool.dispatches % 2).toBe(0);
    expect((steps.res5.dispatches - 1) % 2).toBe(0);
    // The meter sees read-backs where they are: the RPN's logits and deltas, the heads' per-
    // proposal values, the kept roi_features.
    expect(steps.rpn.readBacks).toBe(2);
    expect(steps.heads.readBacks).toBeGreaterThan(0);
    expect(steps.nms.readBacks).toBe(1);
    expect(steps.preprocess.readBacks).toBe(0);
    expect(steps.backbone.peakGpuBytesAllocated).toBeGreaterThan(0);
  }, 300_000);
});
