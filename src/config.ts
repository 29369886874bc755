/**
 * LxmertConfig: Hugging Face's `configuration_lxmert.py` in TypeScript.
 *
 * Original source: transformers/models/lxmert/configuration_lxmert.py. Every field of HF's
 * LxmertConfig is here in camelCase with HF's default; `configFromHf` reads a `config.json`
 * (snake_case) and `configToHf` writes one back.
 */
import { ConfigError } from './errors.js';

/** Activations that HF's ACT2FN maps for `hidden_act` and that this runtime implements. */
export const SUPPORTED_ACTIVATIONS = [
  'gelu',
  'gelu_python',
  'gelu_new',
  'gelu_pytorch_tanh',
  'gelu_fast',
  'quick_gelu',
  'relu',
  'silu',
  'swish',
  'tanh',
  'sigmoid',
] as const;
export type HiddenAct = (typeof SUPPORTED_ACTIVATIONS)[number];

export interface LxmertConfig {
  vocabSize: number;
  hiddenSize: number;
  numAttentionHeads: number;
  numQaLabels: number;
  numObjectLabels: number;
  numAttrLabels: number;
  intermediateSize: number;
  hiddenAct: HiddenAct;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  initializerRange: number;
  /** Read but not used in the math: HF hard-codes LayerNorm eps 1e-12 in LXMERT. */
  layerNormEps: number;
  lLayers: number;
  xLayers: number;
  rLayers: number;
  visualFeatDim: number;
  visualPosDim: number;
  visualLossNormalizer: number;
  taskMatched: boolean;
  taskMaskLm: boolean;
  taskObjPredict: boolean;
  taskQa: boolean;
  visualObjLoss: boolean;
  visualAttrLoss: boolean;
  visualFeatLoss: boolean;
  padTokenId: number | null;
  /** HF `tie_word_embeddings` (default true): the MLM decoder is the word-embedding matrix. */
  tieWordEmbeddings: boolean;
  /** `architectures` from config.json, e.g. `['LxmertForQuestionAnswering']`. */
  architectures: string[];
  /** Answer strings by label id, from config.json `id2label` when present. */
  id2label: Record<number, string> | null;
}

/** HF's defaults (lxmert-base-uncased). */
export const DEFAULT_CONFIG: Readonly<LxmertConfig> = Object.freeze({
  vocabSize: 30522,
  hiddenSize: 768,
  numAttentionHeads: 12,
  numQaLabels: 9500,
  numObjectLabels: 1600,
  numAttrLabels: 400,
  intermediateSize: 3072,
  hiddenAct: 'gelu',
  hiddenDropoutProb: 0.1,
  attentionProbsDropoutProb: 0.1,
  maxPositionEmbeddings: 512,
  typeVocabSize: 2,
  initializerRange: 0.02,
  layerNormEps: 1e-12,
  lLayers: 9,
  xLayers: 5,
  rLayers: 5,
  visualFeatDim: 2048,
  visualPosDim: 4,
  visualLossNormalizer: 6.67,
  taskMatched: true,
  taskMaskLm: true,
  taskObjPredict: true,
  taskQa: true,
  visualObjLoss: true,
  visualAttrLoss: true,
  visualFeatLoss: true,
  padTokenId: 0,
  tieWordEmbeddings: true,
  architectures: [],
  id2label: null,
});

const toSnake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

const INT_FIELDS = [
  'vocabSize',
  'hiddenSize',
  'numAttentionHeads',
  'numQaLabels',
  'numObjectLabels',
  'numAttrLabels',
  'intermediateSize',
  'maxPositionEmbeddings',
  'typeVocabSize',
  'lLayers',
  'xLayers',
  'rLayers',
  'visualFeatDim',
  'visualPosDim',
] as const;
const FLOAT_FIELDS = [
  'hiddenDropoutProb',
  'attentionProbsDropoutProb',
  'initializerRange',
  'layerNormEps',
  'visualLossNormalizer',
] as const;
const BOOL_FIELDS = [
  'taskMatched',
  'taskMaskLm',
  'taskObjPredict',
  'taskQa',
  'visualObjLoss',
  'visualAttrLoss',
  'visualFeatLoss',
  'tieWordEmbeddings',
] as const;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  return JSON.stringify(v) ?? String(v);
}

/**
 * Build a config from a parsed HF `config.json` object: HF defaults fill missing fields; every
 * present field is type-checked and the whole is validated.
 */
export function configFromHf(json: unknown): LxmertConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError('(root)', 'a JSON object', describe(json));
  }
  const src = json as Record<string, unknown>;
  if (src.model_type !== undefined && src.model_type !== 'lxmert') {
    throw new ConfigError('model_type', '"lxmert"', describe(src.model_type));
  }
  const cfg: LxmertConfig = { ...DEFAULT_CONFIG, architectures: [], id2label: null };
  for (const f of INT_FIELDS) {
    const v = src[toSnake(f)];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new ConfigError(toSnake(f), 'a non-negative integer', describe(v));
    }
    cfg[f] = v;
  }
  for (const f of FLOAT_FIELDS) {
    const v = src[toSnake(f)];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ConfigError(toSnake(f), 'a finite number', describe(v));
    }
    cfg[f] = v;
  }
  for (const f of BOOL_FIELDS) {
    const v = src[toSnake(f)];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new ConfigError(toSnake(f), 'true or false', describe(v));
    cfg[f] = v;
  }
  if (src.hidden_act !== undefined) {
    if (!SUPPORTED_ACTIVATIONS.includes(src.hidden_act as HiddenAct)) {
      throw new ConfigError(
        'hidden_act',
        `one of ${SUPPORTED_ACTIVATIONS.join(', ')}`,
        describe(src.hidden_act),
      );
    }
    cfg.hiddenAct = src.hidden_act as HiddenAct;
  }
  if (src.pad_token_id !== undefined) {
    const v = src.pad_token_id;
    if (v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) {
      throw new ConfigError('pad_token_id', 'null or a non-negative integer', describe(v));
    }
    cfg.padTokenId = v;
  }
  if (src.architectures !== undefined && src.architectures !== null) {
    const a = src.architectures;
    if (!Array.isArray(a) || a.some((x) => typeof x !== 'string')) {
      throw new ConfigError('architectures', 'an array of strings', describe(a));
    }
    cfg.architectures = a as string[];
  }
  if (src.id2label !== undefined && src.id2label !== null) {
    const m = src.id2label;
    if (typeof m !== 'object' || Array.isArray(m)) {
      throw new ConfigError('id2label', 'an object of label id to string', describe(m));
    }
    const out: Record<number, string> = {};
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      if (!/^\d+$/.test(k) || typeof v !== 'string') {
        throw new ConfigError(`id2label.${k}`, 'a string under an integer key', describe(v));
      }
      out[Number(k)] = v;
    }
    // HF writes a 2-entry default id2label (LABEL_0, LABEL_1) for every config: keep only a
    // real one.
    const n = Object.keys(out).length;
    const isDefault = n === 2 && out[0] === 'LABEL_0' && out[1] === 'LABEL_1';
    cfg.id2label = isDefault ? null : out;
  }
  // num_hidden_layers, when given, must agree with l/r/x_layers.
  const nhl = src.num_hidden_layers;
  if (nhl !== undefined && nhl !== null && typeof nhl === 'object') {
    const n = nhl as Record<string, unknown>;
    const pairs: [string, number][] = [
      ['language', cfg.lLayers],
      ['vision', cfg.rLayers],
      ['cross_encoder', cfg.xLayers],
    ];
    for (const [k, want] of pairs) {
      if (n[k] !== undefined && n[k] !== want) {
        throw new ConfigError(
          `num_hidden_layers.${k}`,
          `${want} (as the *_layers field)`,
          describe(n[k]),
        );
      }
    }
  }
  validateConfig(cfg);
  return cfg;
}

/** Check a config's internal consistency; throws ConfigError naming the field. */
export function validateConfig(cfg: LxmertConfig): void {
  const positive: (keyof LxmertConfig)[] = [
    'vocabSize',
    'hiddenSize',
    'numAttentionHeads',
    'intermediateSize',
    'maxPositionEmbeddings',
    'typeVocabSize',
    'visualFeatDim',
    'visualPosDim',
    'numQaLabels',
  ];
  for (const f of positive) {
    const v = cfg[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new ConfigError(toSnake(f), 'a positive integer', describe(v));
    }
  }
  if (cfg.hiddenSize % cfg.numAttentionHeads !== 0) {
    throw new ConfigError(
      'hidden_size',
      `a multiple of num_attention_heads (${cfg.numAttentionHeads})`,
      String(cfg.hiddenSize),
    );
  }
  if (cfg.padTokenId !== null && cfg.padTokenId >= cfg.vocabSize) {
    throw new ConfigError(
      'pad_token_id',
      `< vocab_size (${cfg.vocabSize})`,
      String(cfg.padTokenId),
    );
  }
}

/** Serialize back to HF `config.json` form (snake_case, with num_hidden_layers). */
export function configToHf(cfg: LxmertConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (k === 'id2label' || k === 'architectures') continue;
    out[toSnake(k)] = v;
  }
  out.num_hidden_layers = {
    vision: cfg.rLayers,
    cross_encoder: cfg.xLayers,
    language: cfg.lLayers,
  };
  if (cfg.architectures.length) out.architectures = cfg.architectures;
  if (cfg.id2label) out.id2label = cfg.id2label;
  out.model_type = 'lxmert';
  return out;
}

/** Head dimension (hidden_size / num_attention_heads). */
export function headDim(cfg: LxmertConfig): number {
  return cfg.hiddenSize / cfg.numAttentionHeads;
}
