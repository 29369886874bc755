/**
 * LxmertPooler and the heads: LxmertPredictionHeadTransform, LxmertLMPredictionHead (decoder
 * tied to the word embeddings), LxmertVisualObjHead, LxmertPreTrainingHeads' seq_relationship,
 * LxmertVisualAnswerHead.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import { addLayerNorm, dense } from '../../kernels/ops.js';
import { releaseDequantized } from '../../kernels/weights.js';
import type { Activation, LinearWeights } from '../../kernels/types.js';
import type { LxmertConfig } from '../config.js';
import { activationOf } from './activations.js';
import { LN_EPS, LxmertModule, type LayerNormWeights, type WeightSource } from './module.js';

/** tanh(dense(hidden[:, 0])). */
export class LxmertPooler extends LxmertModule {
  static readonly className: string = 'LxmertPooler';
  readonly dense: LinearWeights;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(prefix, source);
    this.dense = this.linear('dense', cfg.hiddenSize, cfg.hiddenSize);
  }

  /** @param hidden [B, L, H] → [B, H] */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor2D {
    const hidden = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
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
  readonly layerNormW: LayerNormWeights;
  readonly act: Activation;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(prefix, source);
    this.dense = this.linear('dense', cfg.hiddenSize, cfg.hiddenSize);
    this.layerNormW = this.layerNorm('LayerNorm', cfg.hiddenSize);
    this.act = activationOf(cfg.hiddenAct);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() =>
      addLayerNorm(
        dense(x, this.dense, this.act),
        null,
        this.layerNormW.gamma,
        this.layerNormW.beta,
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
    super(prefix, source);
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
    this.decoder =
      source.linearFormat === 'f32-in-out' && d.format === undefined
        ? { format: 'f32-in-out', kernel: this.own(tf.transpose(d.weight)), bias }
        : { ...d, bias };
  }

  /** @param hidden [B, L, H] → [B, L, vocab] */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
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
    super(prefix, source);
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
  heads(hidden: tf.Tensor3D): Record<string, tf.Tensor> {
    return tf.tidy(() => {
      const x = this.transform.call(hidden);
      const out: Record<string, tf.Tensor> = {};
      for (const [k, w] of this.decoderDict) out[k] = dense(x, w);
      return out;
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
    return Object.values(this.heads(x));
  }
}

/** A single Linear layer as a module (HF `cls.seq_relationship`). */
export class LxmertLinear extends LxmertModule {
  static readonly className: string = 'LxmertLinear';
  readonly dense: LinearWeights;

  constructor(inDim: number, outDim: number, prefix: string, source: WeightSource) {
    super('', source);
    this.dense = this.linear(prefix, inDim, outDim);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return dense(Array.isArray(inputs) ? inputs[0] : inputs, this.dense);
  }
}

/** Linear(H, 2H) → GELU → LayerNorm(2H) → Linear(2H, labels) (`answer_head.logit_fc`). */
export class LxmertVisualAnswerHead extends LxmertModule {
  static readonly className: string = 'LxmertVisualAnswerHead';
  readonly fc0: LinearWeights;
  readonly layerNormW: LayerNormWeights;
  readonly fc3: LinearWeights;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(prefix, source);
    const h = cfg.hiddenSize;
    this.fc0 = this.linear('logit_fc.0', h, 2 * h);
    this.layerNormW = this.layerNorm('logit_fc.2', 2 * h);
    this.fc3 = this.linear('logit_fc.3', 2 * h, cfg.numQaLabels);
  }

  /** @param pooled [B, H] → [B, num_qa_labels] */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor2D {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => {
      const g = dense(x, this.fc0, 'gelu'); // HF's GeLU(): exact erf
      const n = addLayerNorm(g, null, this.layerNormW.gamma, this.layerNormW.beta, LN_EPS);
      return dense(n, this.fc3) as tf.Tensor2D;
    });
  }
}
