import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromHf, configToHf, DEFAULT_CONFIG, validateConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { FIXTURES } from './helpers/golden.js';

const tinyJson = () =>
  JSON.parse(readFileSync(join(FIXTURES, 'lxmert-tiny', 'config.json'), 'utf8'));

describe('LxmertConfig', () => {
  it('reads every field of a HF config.json', () => {
    const cfg = configFromHf(tinyJson());
    expect(cfg).toMatchObject({
      vocabSize: 512,
      hiddenSize: 64,
      numAttentionHeads: 4,
      intermediateSize: 128,
      lLayers: 2,
      rLayers: 2,
      xLayers: 2,
      visualFeatDim: 48,
      visualPosDim: 4,
      numQaLabels: 7,
      numObjectLabels: 11,
      numAttrLabels: 5,
      maxPositionEmbeddings: 64,
      hiddenAct: 'gelu',
      architectures: ['LxmertForPreTraining'],
    });
  });

  it("uses HF's defaults (lxmert-base) for missing fields", () => {
    const cfg = configFromHf({ model_type: 'lxmert' });
    expect(cfg.hiddenSize).toBe(768);
    expect([cfg.lLayers, cfg.rLayers, cfg.xLayers]).toEqual([9, 5, 5]);
    expect(cfg.visualFeatDim).toBe(2048);
    expect(cfg.numQaLabels).toBe(9500);
    expect(cfg.vocabSize).toBe(30522);
    expect(cfg.layerNormEps).toBe(1e-12);
  });

  it('round-trips through configToHf', () => {
    const cfg = configFromHf(tinyJson());
    expect(configFromHf(configToHf(cfg))).toEqual(cfg);
  });

  it('rejects hidden_size not divisible by num_attention_heads, naming both', () => {
    const bad = { ...tinyJson(), hidden_size: 66 };
    expect(() => configFromHf(bad)).toThrow(ConfigError);
    expect(() => configFromHf(bad)).toThrow(
      /hidden_size: expected a multiple of num_attention_heads \(4\), got 66/,
    );
  });

  it.each([
    ['hidden_size', '64', /config.hidden_size: expected a non-negative integer, got "64"/],
    ['l_layers', -1, /config.l_layers: expected a non-negative integer, got -1/],
    ['hidden_act', 'mish', /config.hidden_act: expected one of .*, got "mish"/],
    ['task_qa', 'yes', /config.task_qa: expected true or false, got "yes"/],
    ['vocab_size', 0, /config.vocab_size: expected a positive integer, got 0/],
    ['model_type', 'bert', /config.model_type: expected "lxmert", got "bert"/],
  ])('rejects a bad %s', (field, value, message) => {
    expect(() => configFromHf({ ...tinyJson(), [field]: value })).toThrow(message);
  });

  it('rejects num_hidden_layers that disagree with l/r/x_layers', () => {
    const bad = { ...tinyJson(), num_hidden_layers: { language: 3, vision: 2, cross_encoder: 2 } };
    expect(() => configFromHf(bad)).toThrow(/num_hidden_layers.language: expected 2/);
  });

  it('rejects a non-object', () => {
    expect(() => configFromHf([1, 2])).toThrow(ConfigError);
    expect(() => configFromHf(null)).toThrow(ConfigError);
  });

  it('validates a config built in code', () => {
    expect(() => validateConfig({ ...DEFAULT_CONFIG, numAttentionHeads: 7 })).toThrow(
      /multiple of num_attention_heads \(7\)/,
    );
  });
});
