/**
 * The whole model on WebGPU (Dawn over SwiftShader here) against Hugging Face's goldens: every
 * output of every case, float32, max_abs ≤ cases.json's bound and rel_l2 ≤ 1e-4. Also counts the
 * dispatches of a forward with the fused kernels and with stock tf.js ops (`--no-fused`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  currentGpuDevice,
  deviceRecovered,
  releaseWebGPU,
  withDeviceRecovery,
} from '../../src/backend.js';
import { configFromHf } from '../../src/config.js';
import { buildModel, type AnyLxmertModel } from '../../src/model/index.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { setFusedKernels } from '../../kernels/ops.js';
import { trackDispatches } from '../../kernels/runtime/dispatch_counter.js';
import { caseInputs, compareOutputs, disposeInputs, loadGolden } from '../helpers/golden.js';
import { useWebGPU } from './webgpu_env.js';

const REL_L2 = 1e-4;

let ready = false;
beforeAll(async () => {
  ready = (await useWebGPU()) !== null;
});
afterAll(async () => {
  setFusedKernels(true);
  await releaseWebGPU();
});

describe.each(['lxmert-tiny-sharp', 'lxmert-tiny-qa'])('%s on webgpu', (modelName) => {
  const g = loadGolden(modelName);
  let model: AnyLxmertModel | null = null;
  beforeAll(() => {
    if (!ready) return;
    const cfg = configFromHf(JSON.parse(readFileSync(join(g.dir, 'config.json'), 'utf8')));
    model = buildModel(
      cfg,
      readSafetensors(new Uint8Array(readFileSync(join(g.dir, 'model.safetensors')))),
    );
  });
  afterAll(() => model?.dispose());

  it.for(g.cases.map((c) => [c.name, c] as const))('%s: every output', async ([, c], ctx) => {
    if (!model) return ctx.skip();
    const inputs = caseInputs(g, c);
    const before = tf.memory().numTensors;
    // validate: false: the input checks read device tensors synchronously (no readSync in Node).
    const out = model.forward(inputs, {
      outputHiddenStates: true,
      outputAttentions: true,
      outputEmbeddings: true,
      validate: false,
    });
    const failures = await compareOutputs(g, c, out, {
      maxAbs: g.tolerance.max_abs,
      relL2: REL_L2,
    });
    tf.dispose(Object.values(out));
    expect(tf.memory().numTensors, 'tensors leaked by forward').toBe(before);
    disposeInputs(inputs);
    expect(failures).toEqual([]);
  });

  // Two checks that need one model each: defined for that model only.
  const onlyFor = (name: string) => (modelName === name ? it : () => undefined);

  onlyFor('lxmert-tiny-qa')(
    'after the device is destroyed, the next forward gives the same answer',
    async (ctx) => {
      if (!model) return ctx.skip();
      const c = g.cases.find((x) => x.name === 'b3_padded')!;
      const inputs = caseInputs(g, c);
      const answer = () =>
        withDeviceRecovery(async () => {
          const out = model!.forward(inputs, { validate: false });
          const v = await out.question_answering_score.data();
          tf.dispose(Object.values(out));
          return v;
        });
      const before = await answer();
      currentGpuDevice()!.destroy();
      const after = await answer();
      await deviceRecovered();
      disposeInputs(inputs);
      expect(tf.getBackend()).toBe('webgpu');
      expect(Array.from(after)).toEqual(Array.from(before));
    },
  );

  onlyFor('lxmert-tiny-sharp')(
    'fused kernels dispatch fewer programs than stock tf.js ops',
    async (ctx) => {
      if (!model) return ctx.skip();
      const c = g.cases.find((x) => x.name === 'b2_36box')!;
      const inputs = caseInputs(g, c);
      const count = async (fused: boolean) => {
        setFusedKernels(fused);
        const counter = trackDispatches();
        const out = model!.forward(inputs, { validate: false });
        const stats = counter.stop();
        await out.pooled_output.data();
        tf.dispose(Object.values(out));
        return stats;
      };
      const fused = await count(true);
      const stock = await count(false);
      setFusedKernels(true);
      disposeInputs(inputs);
      console.log(`dispatches per forward (b2_36box): fused ${fused.total}, stock ${stock.total}`);
      expect(fused.byProgram.AttentionProgram).toBeGreaterThan(0);
      expect(fused.total).toBeLessThan(stock.total);
    },
  );
});
