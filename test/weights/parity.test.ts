/**
 * Converted models against Hugging Face's goldens: each tiny fixture is converted from its
 * pytorch_model.bin (the pickle path) in all three dtypes, loaded back through model.json and
 * run on the cpu backend. float32 must meet cases.json's tolerance on every output; float16
 * and int8 are held to rel_l2 bounds measured on these fixtures (worst case below) with a
 * margin: see the BOUNDS comment.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, forwardAll } from '../../src/model/index.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import type { OutputDtype } from '../../src/weights/manifest.js';
import { toFloat32 } from '../../src/codec/raw_tensor.js';
import { useBackend } from '../helpers/backends.js';
import { caseInputs, diff, disposeInputs, loadGolden } from '../helpers/golden.js';
import { tempDir } from './helpers.js';

/**
 * Worst rel_l2 over every output, case and tiny fixture, as measured on cpu: float16 2.0e-3,
 * int8 5.4e-2, both on `cross_relationship_score` of lxmert-tiny-sharp (2 logits per row, so
 * one value's error is the whole norm; every other int8 output is ≤ 2.3e-2). The issue's
 * bounds (3e-3 / 5e-2 on a mid-size model) are checked in midsize.test.ts; these leave 1.5×.
 */
const BOUNDS: Record<Exclude<OutputDtype, 'float32'>, number> = { float16: 3e-3, int8: 8e-2 };

const tmp = tempDir('parity');
const worst: Record<string, number> = { float16: 0, int8: 0 };

for (const model of ['lxmert-tiny', 'lxmert-tiny-sharp', 'lxmert-tiny-qa']) {
  describe(model, () => {
    const g = loadGolden(model);
    const src = join(tmp, `${model}-bin`);
    beforeAll(async () => {
      await useBackend('cpu');
      mkdirSync(src);
      copyFileSync(join(g.dir, 'config.json'), join(src, 'config.json'));
      copyFileSync(join(g.dir, 'pytorch_model.bin'), join(src, 'pytorch_model.bin'));
    });
    for (const dtype of ['float32', 'float16', 'int8'] as const) {
      it(`${dtype}: every output of every case`, async () => {
        const out = join(tmp, `${model}-${dtype}`);
        await convertCheckpoint(src, out, { dtype });
        const ck = await loadCheckpoint(out);
        const m = buildModel(ck.config, ck.weights, {
          architecture: ck.architecture,
          source: ck.source,
        });
        const failures: string[] = [];
        for (const c of g.cases) {
          const inputs = caseInputs(g, c);
          const res = forwardAll(m, inputs);
          for (const o of c.outputs) {
            const name = o.tensor.slice(c.name.length + 1);
            const got = res[name];
            if (!got) {
              failures.push(`${c.name}/${name}: missing`);
              continue;
            }
            const d = diff(got.dataSync(), toFloat32(g.tensors.get(o.tensor)!));
            if (dtype === 'float32') {
              if (!(d.maxAbs <= g.tolerance.max_abs && d.relL2 <= g.tolerance.rel_l2)) {
                failures.push(`${c.name}/${name}: max_abs ${d.maxAbs} rel_l2 ${d.relL2}`);
              }
            } else {
              worst[dtype] = Math.max(worst[dtype], d.relL2);
              if (!(d.relL2 <= BOUNDS[dtype]))
                failures.push(`${c.name}/${name}: rel_l2 ${d.relL2}`);
            }
          }
          tf.dispose(Object.values(res));
          disposeInputs(inputs);
        }
        m.dispose();
        expect(failures).toEqual([]);
      });
    }
  });
}

describe('measured', () => {
  it('worst rel_l2 (printed with LXMERT_VERBOSE=1)', () => {
    if (process.env.LXMERT_VERBOSE) console.log('worst rel_l2 on tiny fixtures', worst);
    expect(worst.float16).toBeGreaterThan(0);
  });
});
