/**
 * The weight inventory: the Hugging Face state_dict names and shapes each LXMERT class needs,
 * derived from a config, and the check of a weight map against it. The model loads by these
 * names; src/weights/ (converter, loaders) asks this file which tensors a checkpoint must hold.
 */
import type { RawTensor } from '../codec/raw_tensor.js';
import type { LxmertConfig } from '../config.js';
import { WeightsError, formatShape } from '../errors.js';

/** Which HF class a checkpoint is for. */
export type LxmertArchitecture =
  'LxmertModel' | 'LxmertForPreTraining' | 'LxmertForQuestionAnswering';

export interface WeightSpec {
  name: string;
  shape: number[];
}

/** The decoder of the MLM head is tied to the word embeddings (stored once). */
export const TIED_WEIGHTS: Readonly<Record<string, string>> = {
  'cls.predictions.decoder.weight': 'lxmert.embeddings.word_embeddings.weight',
};

/** The tied pairs of a config: TIED_WEIGHTS, or none when `tie_word_embeddings` is false. */
export function tiedWeights(
  cfg: Pick<LxmertConfig, 'tieWordEmbeddings'>,
): Readonly<Record<string, string>> {
  return cfg.tieWordEmbeddings ? TIED_WEIGHTS : {};
}

function linear(out: WeightSpec[], prefix: string, inDim: number, outDim: number): void {
  out.push({ name: `${prefix}.weight`, shape: [outDim, inDim] });
  out.push({ name: `${prefix}.bias`, shape: [outDim] });
}

function layerNorm(out: WeightSpec[], prefix: string, dim: number): void {
  out.push({ name: `${prefix}.weight`, shape: [dim] });
  out.push({ name: `${prefix}.bias`, shape: [dim] });
}

function attention(out: WeightSpec[], prefix: string, self: string, h: number): void {
  for (const p of ['query', 'key', 'value']) linear(out, `${prefix}.${self}.${p}`, h, h);
  linear(out, `${prefix}.output.dense`, h, h);
  layerNorm(out, `${prefix}.output.LayerNorm`, h);
}

function ffn(out: WeightSpec[], inter: string, output: string, h: number, i: number): void {
  linear(out, `${inter}.dense`, h, i);
  linear(out, `${output}.dense`, i, h);
  layerNorm(out, `${output}.LayerNorm`, h);
}

/** Weights of `LxmertModel`, under `prefix` (`lxmert.` inside the heads classes, '' alone). */
export function lxmertModelWeights(cfg: LxmertConfig, prefix = 'lxmert.'): WeightSpec[] {
  const h = cfg.hiddenSize;
  const i = cfg.intermediateSize;
  const out: WeightSpec[] = [];
  const p = prefix;
  out.push({ name: `${p}embeddings.word_embeddings.weight`, shape: [cfg.vocabSize, h] });
  out.push({
    name: `${p}embeddings.position_embeddings.weight`,
    shape: [cfg.maxPositionEmbeddings, h],
  });
  out.push({ name: `${p}embeddings.token_type_embeddings.weight`, shape: [cfg.typeVocabSize, h] });
  layerNorm(out, `${p}embeddings.LayerNorm`, h);
  linear(out, `${p}encoder.visn_fc.visn_fc`, cfg.visualFeatDim, h);
  layerNorm(out, `${p}encoder.visn_fc.visn_layer_norm`, h);
  linear(out, `${p}encoder.visn_fc.box_fc`, cfg.visualPosDim, h);
  layerNorm(out, `${p}encoder.visn_fc.box_layer_norm`, h);
  const single = (name: string) => {
    attention(out, `${name}.attention`, 'self', h);
    ffn(out, `${name}.intermediate`, `${name}.output`, h, i);
  };
  for (let l = 0; l < cfg.lLayers; l++) single(`${p}encoder.layer.${l}`);
  for (let r = 0; r < cfg.rLayers; r++) single(`${p}encoder.r_layers.${r}`);
  for (let x = 0; x < cfg.xLayers; x++) {
    const xp = `${p}encoder.x_layers.${x}`;
    attention(out, `${xp}.visual_attention`, 'att', h);
    attention(out, `${xp}.lang_self_att`, 'self', h);
    attention(out, `${xp}.visn_self_att`, 'self', h);
    ffn(out, `${xp}.lang_inter`, `${xp}.lang_output`, h, i);
    ffn(out, `${xp}.visn_inter`, `${xp}.visn_output`, h, i);
  }
  linear(out, `${p}pooler.dense`, h, h);
  return out;
}

function answerHead(out: WeightSpec[], cfg: LxmertConfig): void {
  const h = cfg.hiddenSize;
  linear(out, 'answer_head.logit_fc.0', h, 2 * h);
  layerNorm(out, 'answer_head.logit_fc.2', 2 * h);
  linear(out, 'answer_head.logit_fc.3', 2 * h, cfg.numQaLabels);
}

/**
 * Every weight the class needs, with HF's name and shape. For `LxmertForPreTraining` the heads
 * present depend on the task_* / visual_*_loss flags, as in HF.
 */
export function expectedWeights(cfg: LxmertConfig, arch: LxmertArchitecture): WeightSpec[] {
  if (arch === 'LxmertModel') return lxmertModelWeights(cfg, '');
  const out = lxmertModelWeights(cfg);
  const h = cfg.hiddenSize;
  if (arch === 'LxmertForQuestionAnswering') {
    answerHead(out, cfg);
    return out;
  }
  // LxmertForPreTraining: cls = LxmertPreTrainingHeads (always built).
  linear(out, 'cls.predictions.transform.dense', h, h);
  layerNorm(out, 'cls.predictions.transform.LayerNorm', h);
  out.push({ name: 'cls.predictions.decoder.weight', shape: [cfg.vocabSize, h] });
  out.push({ name: 'cls.predictions.bias', shape: [cfg.vocabSize] });
  linear(out, 'cls.seq_relationship', h, 2);
  if (cfg.taskObjPredict) {
    linear(out, 'obj_predict_head.transform.dense', h, h);
    layerNorm(out, 'obj_predict_head.transform.LayerNorm', h);
    if (cfg.visualObjLoss) linear(out, 'obj_predict_head.decoder_dict.obj', h, cfg.numObjectLabels);
    if (cfg.visualAttrLoss) linear(out, 'obj_predict_head.decoder_dict.attr', h, cfg.numAttrLabels);
    if (cfg.visualFeatLoss) linear(out, 'obj_predict_head.decoder_dict.feat', h, cfg.visualFeatDim);
  }
  if (cfg.taskQa) answerHead(out, cfg);
  return out;
}

/** HF's TF LXMERT classes and the PyTorch class with the same weights (model/tf_classes.ts). */
export const TF_ARCHITECTURES = {
  TFLxmertModel: 'LxmertModel',
  TFLxmertForPreTraining: 'LxmertForPreTraining',
} as const satisfies Record<string, LxmertArchitecture>;

/**
 * The architecture named by config.json `architectures` (a TF class name gives its PyTorch
 * twin), defaulting to LxmertModel.
 */
export function architectureOf(cfg: LxmertConfig): LxmertArchitecture {
  for (const name of cfg.architectures) {
    const a: string = TF_ARCHITECTURES[name as keyof typeof TF_ARCHITECTURES] ?? name;
    if (a === 'LxmertForPreTraining' || a === 'LxmertForQuestionAnswering' || a === 'LxmertModel') {
      return a;
    }
  }
  return 'LxmertModel';
}

/** Something with a shape, a host RawTensor or a manifest entry. */
export interface Shaped {
  shape: readonly number[];
}

/**
 * Throws one WeightsError naming every missing or mis-shaped tensor. A tied weight may be
 * absent (it is then taken from its twin). Extra tensors are ignored.
 */
export function checkWeights(
  cfg: LxmertConfig,
  arch: LxmertArchitecture,
  weights: ReadonlyMap<string, Shaped>,
  source: string,
): void {
  const missing: string[] = [];
  const misshaped: string[] = [];
  for (const spec of expectedWeights(cfg, arch)) {
    const t = weights.get(spec.name);
    if (!t) {
      const twin = tiedWeights(cfg)[spec.name];
      if (twin && weights.has(twin)) continue;
      missing.push(spec.name);
      continue;
    }
    const same =
      t.shape.length === spec.shape.length && t.shape.every((d, i) => d === spec.shape[i]);
    if (!same)
      misshaped.push(
        `${spec.name} ${formatShape(t.shape)} (config wants ${formatShape(spec.shape)})`,
      );
  }
  if (missing.length || misshaped.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`${missing.length} missing: ${missing.join(', ')}`);
    if (misshaped.length) parts.push(`${misshaped.length} mis-shaped: ${misshaped.join(', ')}`);
    throw new WeightsError(`weights do not match the ${arch} config; ${parts.join('; ')}`, source);
  }
}

/** Resolve a tensor by HF name, following the config's tied-weight aliases. */
export function getWeight(
  weights: ReadonlyMap<string, RawTensor>,
  name: string,
  tied: Readonly<Record<string, string>> = TIED_WEIGHTS,
): RawTensor | undefined {
  return weights.get(name) ?? (tied[name] ? weights.get(tied[name]) : undefined);
}
