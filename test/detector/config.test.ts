/**
 * FrcnnConfig from config.yaml, the weight inventory and GeneralizedRCNN.build's checks: a
 * config.yaml of something else, and checkpoints with missing, extra or mis-shaped tensors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, WeightsError } from '../../src/errors.js';
import {
  CELL_ANCHORS,
  GeneralizedRCNN,
  backbone,
  disposeResNet,
  loadResNet,
  preprocess,
  cellAnchors,
  frcnnFullConfig,
  frcnnInventory,
  frcnnWidths,
  parseFrcnnConfig,
  randomFrcnnWeights,
} from '../../src/detector/index.js';
import type { RawTensor } from '../../src/codec/raw_tensor.js';
import { useBackend } from '../helpers/backends.js';
import { FIXTURES } from '../helpers/golden.js';
import { FRCNN_DIR, fixtureImage, frcnnFixture } from './fixture.js';

const yamlText = () => readFileSync(join(FRCNN_DIR, 'config.yaml'), 'utf8');

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

describe('parseFrcnnConfig', () => {
  it("reads frcnn-narrow's config.yaml: the real config except the six narrow values", () => {
    const c = parseFrcnnConfig(yamlText());
    const full = frcnnFullConfig();
    expect(c.resnets.stemOutChannels).toBe(4);
    expect(c.resnets.res2OutChannels).toBe(8);
    expect(c.resnets.widthPerGroup).toBe(4);
    expect(c.proposalGenerator.hiddenChannels).toBe(16);
    expect([c.minSizeTest, c.maxSizeTest]).toEqual([320, 533]);
    const narrowed = {
      ...c,
      minSizeTest: 800,
      maxSizeTest: 1333,
      resnets: { ...c.resnets, stemOutChannels: 64, res2OutChannels: 256, widthPerGroup: 64 },
      proposalGenerator: { ...c.proposalGenerator, hiddenChannels: 512 },
    };
    expect(narrowed).toEqual(full);
    expect(frcnnWidths(c)).toMatchObject({ c4: 32, c5: 64, clsEmbedding: 8, attrHidden: 16 });
    expect(frcnnWidths(full)).toMatchObject({ c4: 1024, c5: 2048, clsEmbedding: 256 });
  });

  it('an LXMERT config.json is not a detector config: ConfigError naming the section', () => {
    const json = readFileSync(join(FIXTURES, 'lxmert-tiny', 'config.json'), 'utf8');
    const e = thrown(() => parseFrcnnConfig(json, 'lxmert-tiny/config.json'));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/detector config\.yaml/);
    expect(e.message).toMatch(/lxmert-tiny\/config\.json/);
    expect(e.message).toMatch(/got nothing/);
  });

  it('malformed YAML, a list, bad values: ConfigError with the key, expected and got', () => {
    expect(thrown(() => parseFrcnnConfig('model: [1, 2'))).toBeInstanceOf(ConfigError);
    expect(thrown(() => parseFrcnnConfig('- a\n- b')).message).toMatch(/a YAML mapping/);
    const depth = thrown(() => parseFrcnnConfig(yamlText().replace('depth : 101', 'depth : 34')));
    expect(depth).toBeInstanceOf(ConfigError);
    expect(depth.message).toMatch(/resnets\.depth: expected 50, 101 or 152.*got number 34/);
    const nms = thrown(() =>
      parseFrcnnConfig(
        yamlText().replace('nms_thresh_test : [0.5, 0.6, 0.7]', 'nms_thresh_test : 0.5'),
      ),
    );
    expect(nms.message).toMatch(/roi_heads\.nms_thresh_test/);
    const mean = thrown(() =>
      parseFrcnnConfig(
        yamlText().replace('pixel_mean: [102.9801, 115.9465, 122.7717]', 'pixel_mean: [1, 2]'),
      ),
    );
    expect(mean.message).toMatch(/model\.pixel_mean: expected a list of 3 numbers/);
  });
});

describe('frcnnInventory', () => {
  it("is exactly the fixture checkpoint's names and shapes (counters and cell anchors aside)", () => {
    const { config, weights } = frcnnFixture();
    const inventory = frcnnInventory(config);
    const stored = [...weights.keys()].filter(
      (n) => !n.endsWith('.num_batches_tracked') && n !== CELL_ANCHORS,
    );
    expect([...inventory.keys()].sort()).toEqual(stored.sort());
    for (const [name, shape] of inventory) expect(weights.get(name)!.shape, name).toEqual(shape);
    const params = [...inventory.values()].reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
    expect(params + 12 * 4).toBe(677554);
    const storedAnchors = weights.get(CELL_ANCHORS)!;
    expect(cellAnchors(config)).toEqual(new Float32Array(storedAnchors.bytes.slice().buffer));
  });

  it('has the real checkpoint shapes for the full config', () => {
    const inv = frcnnInventory(frcnnFullConfig());
    expect(inv.get('backbone.stem.conv1.weight')).toEqual([64, 3, 7, 7]);
    expect(inv.get('backbone.res4.22.conv3.weight')).toEqual([1024, 256, 1, 1]);
    expect(inv.get('roi_heads.res5.0.shortcut.weight')).toEqual([2048, 1024, 1, 1]);
    expect(inv.get('roi_heads.res5.2.conv2.weight')).toEqual([512, 512, 3, 3]);
    expect(inv.get('proposal_generator.rpn_head.conv.weight')).toEqual([512, 1024, 3, 3]);
    expect(inv.get('roi_heads.box_predictor.cls_score.weight')).toEqual([1601, 2048]);
    expect(inv.get('roi_heads.box_predictor.bbox_pred.weight')).toEqual([6400, 2048]);
    expect(inv.get('roi_heads.box_predictor.cls_embedding.weight')).toEqual([1601, 256]);
    expect(inv.get('roi_heads.box_predictor.fc_attr.weight')).toEqual([512, 2304]);
    expect(inv.get('roi_heads.box_predictor.attr_score.weight')).toEqual([401, 512]);
  });
});

describe('GeneralizedRCNN.build checks the weights', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('missing, extra and mis-shaped tensors: one WeightsError listing each', () => {
    const { config, weights } = frcnnFixture();
    const bad = new Map<string, RawTensor>(weights);
    bad.delete('backbone.res3.1.conv2.weight');
    bad.set('roi_heads.box_predictor.extra.weight', weights.get('backbone.stem.conv1.norm.bias')!);
    bad.set(
      'roi_heads.box_predictor.cls_score.bias',
      weights.get('backbone.stem.conv1.norm.bias')!,
    );
    const before = tf.memory().numTensors;
    const e = thrown(() => GeneralizedRCNN.build(config, bad, { source: 'bad.safetensors' }));
    expect(e).toBeInstanceOf(WeightsError);
    expect(e.message).toMatch(/^bad\.safetensors: /);
    expect(e.message).toMatch(/1 missing: backbone\.res3\.1\.conv2\.weight/);
    expect(e.message).toMatch(
      /1 mis-shaped: roi_heads\.box_predictor\.cls_score\.bias \(F32 \[4\], expected \[1601\]\)/,
    );
    expect(e.message).toMatch(/1 unexpected: roi_heads\.box_predictor\.extra\.weight/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('cell anchors that disagree with the anchor config are refused', () => {
    const { config, weights } = frcnnFixture();
    const bad = new Map<string, RawTensor>(weights);
    const anchors = cellAnchors(config).map((v) => v * 2);
    bad.set(CELL_ANCHORS, { dtype: 'F32', shape: [12, 4], bytes: new Uint8Array(anchors.buffer) });
    expect(thrown(() => GeneralizedRCNN.build(config, bad))).toBeInstanceOf(WeightsError);
  });

  it('randomFrcnnWeights: the inventory, seeded, activations O(1) through the backbone', () => {
    const { config } = frcnnFixture();
    const w = randomFrcnnWeights(config, 3);
    expect([...w.keys()]).toEqual([...frcnnInventory(config).keys()]);
    for (const [name, shape] of frcnnInventory(config)) expect(w.get(name)!.shape).toEqual(shape);
    const again = randomFrcnnWeights(config, 3).get('backbone.stem.conv1.weight')!.bytes;
    expect(again).toEqual(w.get('backbone.stem.conv1.weight')!.bytes);
    expect(randomFrcnnWeights(config, 4).get('backbone.stem.conv1.weight')!.bytes).not.toEqual(
      again,
    );
    const params = loadResNet(config, w);
    const pre = preprocess(fixtureImage('img_a'), config);
    const res4 = backbone(pre.input, params);
    const v = res4.dataSync();
    let sum = 0;
    for (const x of v) sum += x * x;
    const rms = Math.sqrt(sum / v.length);
    expect(rms).toBeGreaterThan(0.1);
    expect(rms).toBeLessThan(20);
    tf.dispose([pre.input, res4]);
    disposeResNet(params);
  });
});
