/**
 * Embedding rows from f32 / packed f16 / packed int8 tables on WebGPU, against the float32
 * table's rows computed on cpu from the same host data (f16 rounded, int8 quantized per row), and
 * a whole model whose embeddings and Linear weights stay packed on the GPU.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseWebGPU } from '../../src/backend.js';
import { configFromHf } from '../../src/config.js';
import { buildModel } from '../../src/model/index.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { gatherRows } from '../../kernels/ops.js';
import { trackDispatches } from '../../kernels/runtime/dispatch_counter.js';
import { makeLinearWeights, disposeLinearWeights } from '../../kernels/weights.js';
import { unpackWords } from '../../src/codec/gpu_words.js';
import { FIXTURES } from '../helpers/golden.js';
import { maxAbs, randomArray, useWebGPU } from './webgpu_env.js';

let ready = false;
beforeAll(async () => {
  ready = (await useWebGPU()) !== null;
});
afterAll(async () => {
  await releaseWebGPU();
});

describe('LxmertGatherRows (webgpu)', () => {
  const rows = 50;
  for (const width of [64, 33]) {
    for (const format of ['f32', 'f16', 'int8'] as const) {
      it(`${format}, width ${width}`, async ({ skip }) => {
        if (!ready) skip();
        const values = randomArray(rows * width, 7 + width, 2);
        const table = makeLinearWeights(
          { shape: [rows, width], weight: values, bias: new Float32Array(rows) },
          format,
        );
        // The reference: the table's own stored values decoded on the host, then indexed.
        let decoded: Float32Array = values;
        if (table.format === 'f16' || table.format === 'int8') {
          const words = (await table.packed.data()) as Int32Array;
          const scales =
            table.format === 'int8' ? ((await table.scales.data()) as Float32Array) : undefined;
          decoded = unpackWords(table.format, words, rows, width, scales);
        }
        const idList = [3, 0, 49, 3, 17, 22, 8];
        const ids = tf.tensor1d(idList, 'int32');
        const counter = trackDispatches();
        const out = gatherRows(table, ids);
        const dispatched = counter.stop().byProgram;
        expect(out.shape).toEqual([idList.length, width]);
        const got = await out.data();
        const ref = new Float32Array(idList.length * width);
        idList.forEach((id, i) =>
          ref.set(decoded.subarray(id * width, (id + 1) * width), i * width),
        );
        expect(maxAbs(got, ref)).toBe(0);
        if (format !== 'f32') expect(dispatched).toEqual({ GatherRowsProgram: 1 });
        // Compact: f16 rows are half, int8 rows a quarter of float32's words (plus scales).
        if (table.format === 'f16')
          expect(table.packed.shape).toEqual([rows, Math.ceil(width / 2)]);
        if (table.format === 'int8')
          expect(table.packed.shape).toEqual([rows, Math.ceil(width / 4)]);
        tf.dispose([ids, out]);
        disposeLinearWeights(table);
      });
    }
  }
});

describe('a model built with packed weights on WebGPU', () => {
  it('holds no float32 Linear or embedding matrix, and answers like the float32 model', async ({
    skip,
  }) => {
    if (!ready) skip();
    const dir = join(FIXTURES, 'lxmert-tiny-qa');
    const cfg = configFromHf(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
    const weights = readSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
    const f32 = buildModel(cfg, weights, { weightFormat: 'f32' });
    const f16 = buildModel(cfg, weights, { weightFormat: 'f16' });
    // The fused dense + LayerNorm kernel's epilogues ([3, out] float32 bias/gamma/beta, [4, out]
    // with int8 scales) are vectors stacked for one binding, not weight matrices.
    const epilogue = (t: tf.Tensor) =>
      t.dtype === 'float32' && (t.shape[0] === 3 || t.shape[0] === 4);
    const rank2 = f16.deviceTensors().filter((t) => t.rank === 2);
    const matrices = rank2.filter((t) => !epilogue(t));
    expect(matrices.length).toBeGreaterThan(20);
    const vectorBytes = rank2.filter(epilogue).reduce((s, t) => s + t.size * 4, 0);
    expect(vectorBytes).toBeLessThan(0.05 * f16.parameterBytes());
    expect(matrices.every((t) => t.dtype === 'int32')).toBe(true); // packed halves, no float32 copy
    expect(f16.parameterBytes()).toBeLessThan(0.56 * f32.parameterBytes());
    const ids = tf.tensor2d([[101, 7, 300, 45, 102, 0]], undefined, 'int32');
    const x = {
      inputIds: ids,
      attentionMask: tf.tensor2d([[1, 1, 1, 1, 1, 0]]),
      visualFeats: tf.tensor3d(randomArray(5 * 48, 3, 1), [1, 5, 48]),
      visualPos: tf.tensor3d(
        randomArray(5 * 4, 4, 0.5).map((v) => v + 0.5),
        [1, 5, 4],
      ),
    };
    const before = tf.memory().numTensors;
    const outA = f32.forward(x, { validate: false });
    const outB = f16.forward(x, { validate: false });
    const [a, b] = [outA.question_answering_score, outB.question_answering_score];
    const [ra, rb] = [await a.data(), await b.data()];
    let num = 0;
    let den = 0;
    for (let i = 0; i < ra.length; i++) {
      num += (ra[i] - rb[i]) ** 2;
      den += ra[i] ** 2;
    }
    expect(Math.sqrt(num / den)).toBeLessThan(3e-3);
    tf.dispose([...Object.values(outA), ...Object.values(outB)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(x));
    f32.dispose();
    f16.dispose();
  });
});
