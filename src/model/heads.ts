/**
 * LxmertPooler and the heads: LxmertPredictionHeadTransform, LxmertLMPredictionHead (decoder
 * tied to the word embeddings), LxmertPreTrainingHeads (`predictions` + `seq_relationship`),
 * LxmertVisualObjHead, LxmertVisualAnswerHead.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import { addLayerNorm, dense } from '../../kernels/ops.js';
import { releaseDequantized } from '../../kernels/weights.js';
import type { Activation, LinearWeights } from '../../kernels/types.js';
import type { LxmertConfig } from '../config.js';
import { activationOf } from './activations.js';
import {
  asList,
  LN_EPS,
  LxmertModule,
  type LayerNormWeights,
  type WeightSource,
} from './module.js';

/** tanh(dense(hidden[:, 0])). */
export class LxmertPooler extends LxmertModule {
  static readonly className: string = 'LxmertPooler';
  readonly dense: LinearWeights;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source);
    this.dense = this.linear('dense', cfg.hiddenSize, cfg.hiddenSize);
  }

  /** @param hidden [B, L, H] → [B, H] */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor2D {
    const [hidden] = asList(inputs) as tf.Tensor3D[];
    return tf.tidy(() => {
      const [b, , h] = hidden.shape;
      const first = tf.reshape(tf.slice(hidden, [0, 0, 0], [b, 1, h]), [b, h]);
      return dense(first, this.dense, 'tanh') as tf.Tensor2D;
    });
  }
}

/** act(dense(x)) → LayerNorm (HF `LxmertPredictionHeadTransform`). */
export class LxmertPredictionHeadTransform extends LxmertModule {
  static readonly className: string = 'LxmertPredictionHeadTransform';
  readonly dense: LinearWeights;
  readonly transformActFn: Activation;
  readonly LayerNorm: LayerNormWeights;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source);
    this.dense = this.linear('dense', cfg.hiddenSize, cfg.hiddenSize);
    this.transformActFn = activationOf(cfg.hiddenAct);
    this.LayerNorm = this.layerNorm('LayerNorm', cfg.hiddenSize);
  }

  /** x [..., H] → [..., H]. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [x] = asList(inputs);
    return tf.tidy(() =>
      addLayerNorm(
        dense(x, this.dense, this.transformActFn),
        null,
        this.LayerNorm.gamma,
        this.LayerNorm.beta,
        LN_EPS,
      ),
    );
  }
}

/** Masked-LM head: transform, then x · word_embeddingsᵀ + bias (HF `LxmertLMPredictionHead`). */
export class LxmertLMPredictionHead extends LxmertModule {
  static readonly className: string = 'LxmertLMPredictionHead';
  readonly transform: LxmertPredictionHeadTransform;
  readonly decoder: LinearWeights;

  /** @param wordEmbeddings the tied decoder weight [vocab, H] (owned by the embeddings) */
  constructor(
    cfg: LxmertConfig,
    prefix: string,
    source: WeightSource,
    wordEmbeddings: LinearWeights,
  ) {
    super(cfg, prefix, source);
    this.transform = this.child(
      new LxmertPredictionHeadTransform(cfg, `${prefix}.transform`, source),
    );
    if (!cfg.tieWordEmbeddings) {
      // tie_word_embeddings false: the decoder is its own [vocab, H] Linear
      this.decoder = this.linearNamed('decoder.weight', 'bias', cfg.hiddenSize, cfg.vocabSize);
      return;
    }
    const bias = this.weight('bias', [cfg.vocabSize]) as tf.Tensor1D;
    const d = wordEmbeddings;
    // The tf-op path (wasm/cpu) multiplies by a transposed copy ([H, vocab]): matMul with
    // transposeB is ~15× slower there. The packed/WebGPU paths read the shared table itself.
    if (d.format === 'wasm-gemm') throw new Error('embedding tables are never GEMM-packed');
    const tfOps = source.linearFormat === 'f32-in-out' || source.linearFormat === 'wasm-gemm';
    this.decoder =
      tfOps && d.format === undefined
        ? { format: 'f32-in-out', kernel: this.own(tf.transpose(d.weight)), bias }
        : { ...d, bias };
  }

  /** @param hidden [B, L, H] → [B, L, vocab] */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [x] = asList(inputs);
    return tf.tidy(() => dense(this.transform.call(x), this.decoder));
  }

  override dispose(): { refCountAfterDispose: number; numDisposedVariables: number } {
    // The table itself belongs to the embeddings; free only what this head derived from it.
    releaseDequantized(this.decoder);
    return super.dispose();
  }
}

/** Visual heads: a shared transform, then obj / attr / feat decoders (HF `LxmertVisualObjHead`). */
export class LxmertVisualObjHead extends LxmertModule {
  static readonly className: string = 'LxmertVisualObjHead';
  readonly transform: LxmertPredictionHeadTransform;
  /** Output name → decoder, in HF's `decoder_dict` order. */
  readonly decoderDict = new Map<'obj' | 'attr' | 'feat', LinearWeights>();

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source);
    this.transform = this.child(
      new LxmertPredictionHeadTransform(cfg, `${prefix}.transform`, source),
    );
    const h = cfg.hiddenSize;
    if (cfg.visualObjLoss)
      this.decoderDict.set('obj', this.linear('decoder_dict.obj', h, cfg.numObjectLabels));
    if (cfg.visualAttrLoss)
      this.decoderDict.set('attr', this.linear('decoder_dict.attr', h, cfg.numAttrLabels));
    if (cfg.visualFeatLoss)
      this.decoderDict.set('feat', this.linear('decoder_dict.feat', h, cfg.visualFeatDim));
  }

  /** @param hidden [B, V, H] → {obj: [B, V, objects], attr: [B, V, attrs], feat: [B, V, F]} */
  forward(hidden: tf.Tensor3D): Record<string, tf.Tensor> {
    return tf.tidy(() => {
      const x = this.transform.call(hidden);
      const out: Record<string, tf.Tensor> = {};
      for (const [k, w] of this.decoderDict) out[k] = dense(x, w);
      return out;
    });
  }

  /** hidden [B, V, H] → forward()'s outputs in decoder_dict order. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const [x] = asList(inputs) as tf.Tensor3D[];
    return Object.values(this.forward(x));
  }
}

/** HF `LxmertPreTrainingHeads` (`cls`): the masked-LM head and the cross-modality matcher. */
export class LxmertPreTrainingHeads extends LxmertModule {
  static readonly className: string = 'LxmertPreTrainingHeads';
  readonly predictions: LxmertLMPredictionHead;
  /** Linear(H, 2): matched / not matched, from the pooled output. */
  readonly seqRelationship: LinearWeights;

  /** @param wordEmbeddings the tied MLM decoder weight [vocab, H] (owned by the embeddings) */
  constructor(
    cfg: LxmertConfig,
    prefix: string,
    source: WeightSource,
    wordEmbeddings: LinearWeights,
  ) {
    super(cfg, prefix, source);
    this.predictions = this.child(
      new LxmertLMPredictionHead(cfg, `${prefix}.predictions`, source, wordEmbeddings),
    );
    this.seqRelationship = this.linear('seq_relationship', cfg.hiddenSize, 2);
  }

  /**
   * @param sequenceOutput [B, L, H] language output; @param pooledOutput [B, H]
   * @returns [prediction_scores [B, L, vocab], seq_relationship_score [B, 2]]
   */
  forward(sequenceOutput: tf.Tensor3D, pooledOutput: tf.Tensor2D): [tf.Tensor, tf.Tensor] {
    return tf.tidy(() => [
      this.predictions.call(sequenceOutput),
      dense(pooledOutput, this.seqRelationship),
    ]);
  }

  /** [sequenceOutput, pooledOutput] → forward()'s two outputs. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const [sequence, pooled] = asList(inputs);
    return this.forward(sequence as tf.Tensor3D, pooled as tf.Tensor2D);
  }
}

/**
 * HF's `logit_fc`, an nn.Sequential: [0] Linear(H, 2H), [1] GeLU (exact erf),
 * [2] LayerNorm(2H), [3] Linear(2H, num_qa_labels).
 */
export type LogitFc = readonly [LinearWeights, 'gelu', LayerNormWeights, LinearWeights];

/** The answer classifier over the pooled output (HF `LxmertVisualAnswerHead`, `answer_head`). */
export class LxmertVisualAnswerHead extends LxmertModule {
  static readonly className: string = 'LxmertVisualAnswerHead';
  readonly logitFc: LogitFc;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source);
    const h = cfg.hiddenSize;
    this.logitFc = [
      this.linear('logit_fc.0', h, 2 * h),
      'gelu',
      this.layerNorm('logit_fc.2', 2 * h),
      this.linear('logit_fc.3', 2 * h, cfg.numQaLabels),
    ];
  }

  /** @param pooled [B, H] → [B, num_qa_labels] */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor2D {
    const [x] = asList(inputs);
    const [fc0, act, norm, fc3] = this.logitFc;
    return tf.tidy(() => {
      const g = dense(x, fc0, act);
      const n = addLayerNorm(g, null, norm.gamma, norm.beta, LN_EPS);
      return dense(n, fc3) as tf.Tensor2D;
    });
  }
}
