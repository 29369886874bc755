/** Bad forward arguments and mismatched weights: typed errors naming argument, expected, actual. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromHf, type LxmertConfig } from '../../src/config.js';
import { InputError, WeightsError } from '../../src/errors.js';
import {
  buildModel,
  weightSourceFromMap,
  type AnyLxmertModel,
  type LxmertInputs,
} from '../../src/model/index.js';
import type { RawTensor } from '../../src/codec/raw_tensor.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { useBackend } from '../helpers/backends.js';
import { FIXTURES } from '../helpers/golden.js';

const dir = join(FIXTURES, 'lxmert-tiny');
let cfg: LxmertConfig;
let weights: Map<string, RawTensor>;
let model: AnyLxmertModel;

beforeAll(async () => {
  await useBackend('cpu');
  cfg = configFromHf(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  weights = readSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))));
  model = buildModel(cfg, weights);
});
afterAll(() => model.dispose());

/** Valid inputs of batch 2, 6 tokens, 5 boxes, with one field replaced. */
function inputs(over: Partial<Record<keyof LxmertInputs, tf.Tensor>> = {}): LxmertInputs {
  return {
    inputIds: tf.tensor2d(
      [
        [101, 5, 6, 7, 8, 102],
        [101, 9, 10, 102, 0, 0],
      ],
      undefined,
      'int32',
    ),
    visualFeats: tf.ones([2, 5, 48]) as tf.Tensor3D,
    visualPos: tf.fill([2, 5, 4], 0.5) as tf.Tensor3D,
    ...over,
  } as LxmertInputs;
}

function expectInputError(x: LxmertInputs, argument: string, message: RegExp): void {
  const before = tf.memory().numTensors;
  let err: unknown;
  try {
    model.forward(x);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  expect((err as InputError).argument).toBe(argument);
  expect((err as Error).message).toMatch(message);
  expect(tf.memory().numTensors).toBe(before); // nothing half-made is left behind
  tf.dispose(Object.values(x) as tf.Tensor[]);
}

describe('forward argument checks', () => {
  it('visual_feats of the wrong width', () => {
    expectInputError(
      inputs({ visualFeats: tf.ones([2, 5, 47]) }),
      'visual_feats',
      /visual_feats: expected shape \[2, \*, 48\] .*got shape \[2, 5, 47\]/,
    );
  });
  it('a boxes batch different from the ids batch', () => {
    expectInputError(
      inputs({ visualFeats: tf.ones([3, 5, 48]), visualPos: tf.ones([3, 5, 4]) }),
      'visual_feats',
      /expected shape \[2, \*, 48\].*got shape \[3, 5, 48\]/,
    );
  });
  it('ids ≥ vocab_size', () => {
    expectInputError(
      inputs({
        inputIds: tf.tensor2d(
          [
            [101, 5],
            [101, 512],
          ],
          undefined,
          'int32',
        ),
      }),
      'input_ids',
      /values in \[0, 512\) \(vocab_size\), got 512 at flat index 3/,
    );
  });
  it('negative ids', () => {
    expectInputError(
      inputs({
        inputIds: tf.tensor2d(
          [
            [101, -1],
            [101, 5],
          ],
          undefined,
          'int32',
        ),
      }),
      'input_ids',
      /got -1/,
    );
  });
  it('more tokens than max_position_embeddings', () => {
    expectInputError(
      inputs({ inputIds: tf.zeros([2, 65], 'int32') }),
      'input_ids',
      /at most max_position_embeddings = 64 tokens, got 65 tokens/,
    );
  });
  it('boxes of width 3', () => {
    expectInputError(
      inputs({ visualPos: tf.ones([2, 5, 3]) }),
      'visual_pos',
      /expected shape \[2, 5, 4\].*got shape \[2, 5, 3\]/,
    );
  });
  it('boxes count different from the features', () => {
    expectInputError(
      inputs({ visualPos: tf.ones([2, 4, 4]) }),
      'visual_pos',
      /got shape \[2, 4, 4\]/,
    );
  });
  it('NaN in features', () => {
    const f = tf.buffer([2, 5, 48]);
    f.set(NaN, 1, 2, 3);
    expectInputError(
      inputs({ visualFeats: f.toTensor() }),
      'visual_feats',
      /finite values, got NaN at flat index 339/,
    );
  });
  it('Infinity in boxes', () => {
    const p = tf.buffer([2, 5, 4]);
    p.set(Infinity, 0, 0, 1);
    expectInputError(
      inputs({ visualPos: p.toTensor() }),
      'visual_pos',
      /finite values, got Infinity at flat index 1/,
    );
  });
  it('float input_ids', () => {
    expectInputError(
      inputs({ inputIds: tf.ones([2, 6]) }),
      'input_ids',
      /dtype int32, got dtype float32/,
    );
  });
  it('an attention_mask of another length', () => {
    expectInputError(
      inputs({ attentionMask: tf.ones([2, 5]) }),
      'attention_mask',
      /shape \[2, 6\].*got shape \[2, 5\]/,
    );
  });
  it('token_type_ids ≥ type_vocab_size', () => {
    expectInputError(
      inputs({ tokenTypeIds: tf.fill([2, 6], 2, 'int32') }),
      'token_type_ids',
      /values in \[0, 2\) \(type_vocab_size\), got 2/,
    );
  });
  it('a visual_attention_mask of the wrong shape', () => {
    expectInputError(
      inputs({ visualAttentionMask: tf.ones([2, 6]) }),
      'visual_attention_mask',
      /shape \[2, 5\]/,
    );
  });
  it('valid inputs run', () => {
    const x = inputs();
    const out = model.forward(x);
    expect(out.pooled_output.shape).toEqual([2, 64]);
    tf.dispose(Object.values(out));
    tf.dispose(Object.values(x) as tf.Tensor[]);
  });
});

describe('weights that do not match the config', () => {
  it('lists every missing and mis-shaped tensor in one error', () => {
    const bigger = { ...cfg, intermediateSize: 256 };
    const fewer = new Map(weights);
    fewer.delete('lxmert.pooler.dense.weight');
    const fn = () =>
      buildModel(bigger, fewer, {
        architecture: 'LxmertForPreTraining',
        source: 'model.safetensors',
      });
    expect(fn).toThrow(WeightsError);
    expect(fn).toThrow(/1 missing: lxmert.pooler.dense.weight/);
    expect(fn).toThrow(
      /mis-shaped: lxmert.encoder.layer.0.intermediate.dense.weight \[128, 64\] \(config wants \[256, 64\]\)/,
    );
  });

  it('accepts a checkpoint without the tied decoder weight (HF save_pretrained drops it)', () => {
    const untied = new Map(weights);
    untied.delete('cls.predictions.decoder.weight');
    const m = buildModel(cfg, untied);
    m.dispose();
  });

  it('rejects a config whose visual_feat_dim disagrees with the weights', () => {
    expect(() => buildModel({ ...cfg, visualFeatDim: 2048 }, weights)).toThrow(
      /lxmert.encoder.visn_fc.visn_fc.weight \[64, 48\] \(config wants \[64, 2048\]\)/,
    );
  });
});

describe('a build that fails half-way', () => {
  it('frees every tensor it made', () => {
    const before = tf.memory().numTensors;
    const broken = new Map(weights);
    broken.delete('cls.seq_relationship.bias'); // one of the last weights the build reads
    const source = weightSourceFromMap(broken, 'broken.safetensors');
    expect(() => buildModel(cfg, source, { architecture: 'LxmertForPreTraining' })).toThrow(
      /missing tensor 'cls.seq_relationship.bias'/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a disposed model leaves nothing behind, MLM head and dequantized copies included', () => {
    const before = tf.memory().numTensors;
    const m = buildModel(cfg, weights);
    const x = inputs();
    const out = m.forward(x);
    tf.dispose(Object.values(out));
    tf.dispose(Object.values(x) as tf.Tensor[]);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
