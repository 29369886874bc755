/**
 * The forward arguments (HF names in camelCase) and their validation at the boundary: every
 * problem becomes an InputError naming the argument, what was expected and what came.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LxmertConfig } from '../config.js';
import { InputError, formatShape } from '../errors.js';

export interface LxmertInputs {
  /** [B, L] int32 token ids. */
  inputIds: tf.Tensor2D;
  /** [B, V, visual_feat_dim] float32 region features. */
  visualFeats: tf.Tensor3D;
  /** [B, V, visual_pos_dim] float32 boxes (x1, y1, x2, y2 in [0, 1]). */
  visualPos: tf.Tensor3D;
  /** [B, L] 1 = attend, 0 = padding; default all ones. */
  attentionMask?: tf.Tensor2D | null;
  /** [B, L] segment ids; default zeros. */
  tokenTypeIds?: tf.Tensor2D | null;
  /** [B, V] 1 = attend, 0 = padding; default no masking. */
  visualAttentionMask?: tf.Tensor2D | null;
}

export interface ForwardOptions {
  /** Return every layer's hidden states (`language_hidden_states.<i>` …). */
  outputHiddenStates?: boolean;
  /** Return attention probabilities (`language_attentions.<i>` …). */
  outputAttentions?: boolean;
  /** Also return `embedding_output` and `visual_embedding_output`. */
  outputEmbeddings?: boolean;
  /**
   * Check values too (ids in range, features finite). Costs one small device read; on by
   * default. Shapes and dtypes are always checked.
   */
  validate?: boolean;
}

function checkShape(arg: string, t: tf.Tensor, want: (number | null)[], what: string): void {
  const ok = t.rank === want.length && want.every((d, i) => d === null || d === t.shape[i]);
  if (!ok) {
    const w = `[${want.map((d) => (d === null ? '*' : d)).join(', ')}]`;
    throw new InputError(arg, `shape ${w} (${what})`, `shape ${formatShape(t.shape)}`);
  }
}

function checkIntRange(arg: string, t: tf.Tensor, max: number, what: string): void {
  const v = t.dataSync();
  for (let i = 0; i < v.length; i++) {
    if (!(v[i] >= 0 && v[i] < max)) {
      throw new InputError(arg, `values in [0, ${max}) (${what})`, `${v[i]} at flat index ${i}`);
    }
  }
}

function checkFinite(arg: string, t: tf.Tensor): void {
  // On the host: the inputs were just written from it (on WebGPU, selectBackend keeps host
  // copies of host-written tensors), and a device-side isFinite would need a sync read-back.
  const v = t.dataSync();
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]))
      throw new InputError(arg, 'finite values', `${v[i]} at flat index ${i}`);
  }
}

/** Validate forward arguments against the config; returns [B, L, V]. */
export function validateInputs(
  cfg: LxmertConfig,
  x: LxmertInputs,
  values = true,
): [number, number, number] {
  const present = (arg: string, t: unknown): void => {
    if (!(t instanceof tf.Tensor))
      throw new InputError(arg, 'a tf.Tensor', t === undefined ? 'nothing' : typeof t);
  };
  present('input_ids', x.inputIds);
  present('visual_feats', x.visualFeats);
  present('visual_pos', x.visualPos);
  if (x.inputIds.dtype !== 'int32')
    throw new InputError('input_ids', 'dtype int32', `dtype ${x.inputIds.dtype}`);
  checkShape('input_ids', x.inputIds, [null, null], 'batch, tokens');
  const [b, l] = x.inputIds.shape;
  if (b === 0 || l === 0)
    throw new InputError(
      'input_ids',
      'at least one row and one token',
      `shape ${formatShape(x.inputIds.shape)}`,
    );
  if (l > cfg.maxPositionEmbeddings) {
    throw new InputError(
      'input_ids',
      `at most max_position_embeddings = ${cfg.maxPositionEmbeddings} tokens`,
      `${l} tokens`,
    );
  }
  if (x.visualFeats.dtype !== 'float32')
    throw new InputError('visual_feats', 'dtype float32', `dtype ${x.visualFeats.dtype}`);
  checkShape(
    'visual_feats',
    x.visualFeats,
    [b, null, cfg.visualFeatDim],
    `batch of input_ids, boxes, visual_feat_dim`,
  );
  const v = x.visualFeats.shape[1];
  if (v === 0) throw new InputError('visual_feats', 'at least one box', '0 boxes');
  if (x.visualPos.dtype !== 'float32')
    throw new InputError('visual_pos', 'dtype float32', `dtype ${x.visualPos.dtype}`);
  checkShape(
    'visual_pos',
    x.visualPos,
    [b, v, cfg.visualPosDim],
    'batch, boxes of visual_feats, visual_pos_dim',
  );
  if (x.attentionMask != null)
    checkShape('attention_mask', x.attentionMask, [b, l], 'as input_ids');
  if (x.tokenTypeIds != null) {
    if (x.tokenTypeIds.dtype !== 'int32')
      throw new InputError('token_type_ids', 'dtype int32', `dtype ${x.tokenTypeIds.dtype}`);
    checkShape('token_type_ids', x.tokenTypeIds, [b, l], 'as input_ids');
  }
  if (x.visualAttentionMask != null) {
    checkShape(
      'visual_attention_mask',
      x.visualAttentionMask,
      [b, v],
      'batch, boxes of visual_feats',
    );
  }
  if (values) {
    checkIntRange('input_ids', x.inputIds, cfg.vocabSize, 'vocab_size');
    if (x.tokenTypeIds != null)
      checkIntRange('token_type_ids', x.tokenTypeIds, cfg.typeVocabSize, 'type_vocab_size');
    checkFinite('visual_feats', x.visualFeats);
    checkFinite('visual_pos', x.visualPos);
    if (x.attentionMask != null) checkFinite('attention_mask', x.attentionMask);
    if (x.visualAttentionMask != null) checkFinite('visual_attention_mask', x.visualAttentionMask);
  }
  return [b, l, v];
}

/** float32 min, HF's `torch.finfo(float32).min` used for masked keys. */
export const MASK_MIN = -3.4028234663852886e38;

/** (1 − mask) · finfo(float32).min, as float32 [B, L]. */
export function extendedMask(mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.sub(1, tf.cast(mask, 'float32')), MASK_MIN));
}
