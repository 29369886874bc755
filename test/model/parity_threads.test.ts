/**
 * Parity with Hugging Face's PyTorch LXMERT with the WASM GEMM engine on 2 threads: the
 * process-wide engine made as in a cross-origin-isolated page (crossOriginIsolated, a Worker
 * that runs the helper's Blob source — here on node:worker_threads), every product and attention
 * split across both threads (minParallelMacs 0: the tiny fixtures are below the default), and
 * the outputs within cases.json's tolerance, equal bit for bit to the same engine's 1-thread
 * results.
 */
import { readFileSync } from 'node:fs';
import { resolveObjectURL } from 'node:buffer';
import { join } from 'node:path';
import { Worker as NodeWorker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKernelFlags, WASM_THREADS_FLAG } from '../../kernels/flags.js';
import { gemmEngine, type GemmEngine } from '../../kernels/wasm/gemm.js';
import { configFromHf } from '../../src/config.js';
import { buildModel, forwardAll, type AnyLxmertModel } from '../../src/model/index.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { useBackend } from '../helpers/backends.js';
import { caseInputs, compareOutputs, disposeInputs, loadGolden } from '../helpers/golden.js';

/** A page's Worker on a Blob URL, on worker_threads (the source is read before it starts). */
class BlobWorker {
  private readonly worker: Promise<NodeWorker>;
  onerror: ((e: { message: string }) => void) | null = null;

  constructor(url: string) {
    this.worker = resolveObjectURL(url)!
      .text()
      .then((source) => {
        const w = new NodeWorker(
          `const { parentPort } = require('node:worker_threads');\n${source}\n` +
            `parentPort.on('message', (data) => onmessage({ data }));`,
          { eval: true },
        );
        w.unref();
        return w;
      });
  }

  postMessage(message: unknown): void {
    void this.worker.then((w) => w.postMessage(message));
  }

  terminate(): void {
    void this.worker.then((w) => w.terminate());
  }
}

describe('lxmert-tiny-qa on wasm, GEMM engine on 2 threads', () => {
  const g = loadGolden('lxmert-tiny-qa');
  let model: AnyLxmertModel;
  let engine: GemmEngine;

  beforeAll(async () => {
    await useBackend('wasm');
    registerKernelFlags();
    tf.env().set(WASM_THREADS_FLAG, 2);
    const page = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
    page.crossOriginIsolated = true;
    page.Worker = BlobWorker;
    try {
      engine = gemmEngine()!; // the process-wide engine: made once, with its helper
    } finally {
      delete page.crossOriginIsolated;
      delete page.Worker;
    }
    expect(await engine.whenReady(20000)).toBe(2);
    engine.minParallelMacs = 0;
    // awake between the jobs of a forward (tiny jobs end before a sleeping helper wakes)
    engine.spinMicros = 100_000;
    const cfg = configFromHf(JSON.parse(readFileSync(join(g.dir, 'config.json'), 'utf8')));
    model = buildModel(
      cfg,
      readSafetensors(new Uint8Array(readFileSync(join(g.dir, 'model.safetensors')))),
    );
  }, 60000);
  afterAll(() => {
    model?.dispose();
    engine?.close();
  });

  it.each(g.cases.map((c) => [c.name, c] as const))(
    '%s: every output within tolerance, and equal to 1 thread bit for bit',
    async (_, c) => {
      const inputs = caseInputs(g, c);
      // On a busy machine the OS may not run the helper during a whole tiny forward (the caller
      // then claims every unit): run again, after a pause, until the helper took part.
      let out: ReturnType<typeof forwardAll>;
      let profile: NonNullable<ReturnType<GemmEngine['stopProfile']>>;
      for (let attempt = 1; ; attempt++) {
        engine.startProfile();
        out = forwardAll(model, inputs);
        profile = engine.stopProfile()!;
        if (profile.helperUnits > 0 || attempt === 20) break;
        tf.dispose(Object.values(out));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(profile.gemmJobs, 'products split across threads').toBeGreaterThan(0);
      expect(profile.singleJobs, 'nothing left on one thread').toBe(0);
      expect(profile.helperUnits, 'the helper ran units').toBeGreaterThan(0);
      const failures = await compareOutputs(g, c, out);
      // the same forward on this thread alone (the helper is still there, just not asked)
      engine.minParallelMacs = Number.MAX_SAFE_INTEGER;
      engine.startProfile();
      const alone = forwardAll(model, inputs);
      const one = engine.stopProfile()!;
      expect(one.gemmJobs + one.attentionJobs, 'no job split').toBe(0);
      engine.minParallelMacs = 0;
      for (const name of Object.keys(out)) {
        expect(Array.from(out[name].dataSync()), name).toEqual(Array.from(alone[name].dataSync()));
      }
      tf.dispose([...Object.values(out), ...Object.values(alone)]);
      disposeInputs(inputs);
      expect(failures).toEqual([]);
    },
  );
});
