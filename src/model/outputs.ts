/**
 * Hugging Face's LXMERT output classes as the types `forward()` returns.
 * Original source: transformers/models/lxmert/modeling_lxmert.py (`LxmertModelOutput`,
 * `LxmertForPreTrainingOutput`, `LxmertForQuestionAnsweringOutput`) and modeling_tf_lxmert.py
 * (the same classes with a `TF` prefix).
 *
 * Field names are HF's, in HF's snake_case: outputs are named as in HF's classes, the golden
 * files and `lxmert infer`'s safetensors, so one name serves all three (inputs and options are
 * camelCase, as tf.js does). Two differences, both from returning plain tensors:
 * - HF's tuple fields (`language_hidden_states`, `vision_hidden_states`, `language_attentions`,
 *   `vision_attentions`, `cross_encoder_attentions`) are flattened: element `i` is the field
 *   `language_hidden_states.${i}`, numbered from 0 in HF's tuple order. `tupleOutput(out, name)`
 *   gives the tuple back as an array.
 * - There is no `loss` (no labels are taken). The heads' classes keep LxmertModel's fields
 *   (`language_output` …) and the visual heads' logits next to HF's fields.
 * Tuples are present when `ForwardOptions.outputHiddenStates` / `outputAttentions` asked for them.
 * Like HF's `Optional` fields, an output the call or the config did not ask for is absent; its
 * field is typed like a present one (outputs also stay reachable by name, `out[name]`, as
 * before these types), so check before use where the config decides. The caller owns every
 * tensor: `tf.dispose(Object.values(out))`.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** HF's tuple fields, each flattened as `<name>.<i>`. */
export const TUPLE_OUTPUTS = [
  'language_hidden_states',
  'vision_hidden_states',
  'language_attentions',
  'vision_attentions',
  'cross_encoder_attentions',
] as const;

export type TupleOutputName = (typeof TUPLE_OUTPUTS)[number];

/** `LxmertModelOutput` (and `TFLxmertModelOutput`). */
export type LxmertModelOutput = {
  /** [B, L, H] last layer of the language stream (out of the last cross layer). */
  language_output: tf.Tensor3D;
  /** [B, V, H] last layer of the vision stream. */
  vision_output: tf.Tensor3D;
  /** [B, H] `tanh(dense(language_output[:, 0]))`. */
  pooled_output: tf.Tensor2D;
  /** [B, L, H] text embeddings (only with `ForwardOptions.outputEmbeddings`; not in HF's class). */
  embedding_output: tf.Tensor3D;
  /** [B, V, H] visual embeddings (only with `ForwardOptions.outputEmbeddings`; not in HF's class). */
  visual_embedding_output: tf.Tensor3D;
  /** [B, L, H], i < l_layers + x_layers: language layers, then the cross layers' language side. */
  [hidden: `language_hidden_states.${number}`]: tf.Tensor3D;
  /** [B, V, H], i < r_layers + x_layers: vision layers, then the cross layers' vision side. */
  [hidden: `vision_hidden_states.${number}`]: tf.Tensor3D;
  /** [B, heads, L, L], i < l_layers. */
  [attentions: `language_attentions.${number}`]: tf.Tensor4D;
  /** [B, heads, V, V], i < r_layers. */
  [attentions: `vision_attentions.${number}`]: tf.Tensor4D;
  /** [B, heads, L, V], i < x_layers: language → vision cross-attention. */
  [attentions: `cross_encoder_attentions.${number}`]: tf.Tensor4D;
  /** Any output by its name (what `lxmert infer` writes and the goldens hold). */
  [output: string]: tf.Tensor;
};

/** `LxmertForPreTrainingOutput` (and `TFLxmertForPreTrainingOutput`), plus LxmertModel's fields. */
export type LxmertForPreTrainingOutput = LxmertModelOutput & {
  /** [B, L, vocab_size] masked-LM scores. */
  prediction_logits: tf.Tensor3D;
  /** [B, 2] cross-modality matching scores. */
  cross_relationship_score: tf.Tensor2D;
  /** [B, num_qa_labels], only when config.task_qa. */
  question_answering_score: tf.Tensor2D;
  /** [B, V, num_object_labels], only with task_obj_predict and visual_obj_loss (HF: loss only). */
  obj_logits: tf.Tensor3D;
  /** [B, V, num_attr_labels], only with task_obj_predict and visual_attr_loss (HF: loss only). */
  attr_logits: tf.Tensor3D;
  /** [B, V, visual_feat_dim], only with task_obj_predict and visual_feat_loss (HF: loss only). */
  feat_regression: tf.Tensor3D;
};

/** `LxmertForQuestionAnsweringOutput`, plus LxmertModel's fields. */
export type LxmertForQuestionAnsweringOutput = LxmertModelOutput & {
  /** [B, num_qa_labels] answer scores (logits). */
  question_answering_score: tf.Tensor2D;
};

/** HF's TF names of the same classes. */
export type TFLxmertModelOutput = LxmertModelOutput;
export type TFLxmertForPreTrainingOutput = LxmertForPreTrainingOutput;

/** A flattened tuple field back as an array (`[]` when the forward did not ask for it). */
export function tupleOutput(
  out: Readonly<Record<string, tf.Tensor | undefined>>,
  name: TupleOutputName,
): tf.Tensor[] {
  const items: tf.Tensor[] = [];
  for (let i = 0; out[`${name}.${i}`] !== undefined; i++) items.push(out[`${name}.${i}`]!);
  return items;
}
