/**
 * `tie_word_embeddings: false`: the MLM decoder is its own weight. With a decoder of twice the
 * word embeddings, HF's logits become 2·(tied logits − bias) + bias, derived from HF's goldens.
 * The converter keeps the decoder for such a config instead of storing it once as the twin.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromHf } from '../../src/config.js';
import { buildModel } from '../../src/model/index.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { fromFloat32, toFloat32, type RawTensor } from '../../src/codec/raw_tensor.js';
import { readSafetensors, writeSafetensors } from '../../src/weights/safetensors.js';
import { useBackend } from '../helpers/backends.js';
import { caseInputs, diff, disposeInputs, loadGolden } from '../helpers/golden.js';

const DECODER = 'cls.predictions.decoder.weight';
const WORDS = 'lxmert.embeddings.word_embeddings.weight';
const g = loadGolden('lxmert-tiny-sharp');
const tmp = mkdtempSync(join(tmpdir(), 'lxmert-untied-'));
let configJson: Record<string, unknown>;
let weights: Map<string, RawTensor>;

beforeAll(async () => {
  await useBackend('cpu');
  configJson = {
    ...JSON.parse(readFileSync(join(g.dir, 'config.json'), 'utf8')),
    tie_word_embeddings: false,
  };
  weights = readSafetensors(new Uint8Array(readFileSync(join(g.dir, 'model.safetensors'))));
  const doubled = toFloat32(weights.get(WORDS)!).map((v) => 2 * v);
  weights.set(DECODER, fromFloat32(doubled, weights.get(WORDS)!.shape));
  writeFileSync(join(tmp, 'config.json'), JSON.stringify(configJson));
  writeFileSync(join(tmp, 'model.safetensors'), writeSafetensors(weights));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectedLogits(caseName: string): Float32Array {
  const tiedLogits = toFloat32(g.tensors.get(`${caseName}/prediction_logits`)!);
  const bias = toFloat32(weights.get('cls.predictions.bias')!);
  return tiedLogits.map((v, i) => 2 * (v - bias[i % bias.length]) + bias[i % bias.length]);
}

describe('tie_word_embeddings: false', () => {
  it('uses the checkpoint decoder, not the word embeddings', async () => {
    const model = buildModel(configFromHf(configJson), weights);
    const c = g.cases.find((x) => x.name === 'b3_padded')!;
    const inputs = caseInputs(g, c);
    const out = model.forward(inputs);
    const d = diff(await out.prediction_logits.data(), expectedLogits(c.name));
    expect(d.maxAbs).toBeLessThan(3e-4); // twice the golden tolerance: the logits are doubled
    tf.dispose(Object.values(out));
    disposeInputs(inputs);
    model.dispose();
  });

  it('a tied config still ignores a stored decoder (HF ties it to the embeddings)', async () => {
    const model = buildModel(configFromHf({ ...configJson, tie_word_embeddings: true }), weights);
    const c = g.cases.find((x) => x.name === 'b1_nomask')!;
    const inputs = caseInputs(g, c);
    const out = model.forward(inputs);
    const d = diff(
      await out.prediction_logits.data(),
      toFloat32(g.tensors.get(`${c.name}/prediction_logits`)!),
    );
    expect(d.maxAbs).toBeLessThanOrEqual(g.tolerance.max_abs);
    tf.dispose(Object.values(out));
    disposeInputs(inputs);
    model.dispose();
  });

  it('the converter keeps the decoder of an untied checkpoint', async () => {
    const out = join(tmp, 'converted');
    await convertCheckpoint(tmp, out);
    const ckpt = await loadCheckpoint(out);
    expect(ckpt.manifest?.tiedWeights).toEqual({});
    const dec = toFloat32(ckpt.weights.get(DECODER)!);
    const words = toFloat32(ckpt.weights.get(WORDS)!);
    expect(dec[5]).toBe(2 * words[5]);
  });
});
