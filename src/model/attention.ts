/**
 * LxmertAttention, LxmertAttentionOutput, LxmertSelfAttentionLayer, LxmertCrossAttentionLayer.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import { addLayerNorm, attention, dense } from '../../kernels/ops.js';
import type { LinearWeights } from '../../kernels/types.js';
import type { LxmertConfig } from '../config.js';
import { LN_EPS, LxmertModule, type LayerNormWeights, type WeightSource } from './module.js';

/** Output of an attention block: the new hidden states and, on request, the probabilities. */
export type AttentionOutput = {
  output: tf.Tensor3D;
  /** [B, heads, Lq, Lk] */
  probs?: tf.Tensor4D;
};

/** Q/K/V projections + scaled dot-product attention (HF `LxmertAttention`). */
export class LxmertAttention extends LxmertModule {
  static readonly className: string = 'LxmertAttention';
  readonly query: LinearWeights;
  readonly key: LinearWeights;
  readonly value: LinearWeights;
  readonly numHeads: number;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(prefix, source);
    const h = cfg.hiddenSize;
    this.numHeads = cfg.numAttentionHeads;
    this.query = this.linear('query', h, h);
    this.key = this.linear('key', h, h);
    this.value = this.linear('value', h, h);
  }

  /**
   * @param hidden [B, Lq, H] queries' stream
   * @param context [B, Lk, H] keys' and values' stream
   * @param mask [B, Lk] additive key mask, or null
   * @returns context vectors [B, Lq, H] (+ probs [B, heads, Lq, Lk])
   */
  attend(
    hidden: tf.Tensor3D,
    context: tf.Tensor3D,
    mask: tf.Tensor2D | null,
    withProbs: boolean,
  ): AttentionOutput {
    return tf.tidy(() => {
      const q = dense(hidden, this.query) as tf.Tensor3D;
      const k = dense(context, this.key) as tf.Tensor3D;
      const v = dense(context, this.value) as tf.Tensor3D;
      const r = attention(q, k, v, mask, this.numHeads, withProbs);
      return r.probs ? { output: r.context, probs: r.probs } : { output: r.context };
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [hidden, context, mask] = inputs as tf.Tensor[];
    return this.attend(
      hidden as tf.Tensor3D,
      (context ?? hidden) as tf.Tensor3D,
      (mask ?? null) as tf.Tensor2D | null,
      false,
    ).output;
  }
}

/** dense → residual add + LayerNorm (HF `LxmertAttentionOutput`, also `LxmertOutput`'s math). */
export class LxmertAttentionOutput extends LxmertModule {
  static readonly className: string = 'LxmertAttentionOutput';
  readonly dense: LinearWeights;
  readonly layerNormW: LayerNormWeights;

  constructor(inDim: number, hidden: number, prefix: string, source: WeightSource) {
    super(prefix, source);
    this.dense = this.linear('dense', inDim, hidden);
    this.layerNormW = this.layerNorm('LayerNorm', hidden);
  }

  /** LayerNorm(dense(x) + residual). */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor3D {
    const [x, residual] = inputs as tf.Tensor3D[];
    return tf.tidy(
      () =>
        addLayerNorm(
          dense(x, this.dense),
          residual,
          this.layerNormW.gamma,
          this.layerNormW.beta,
          LN_EPS,
        ) as tf.Tensor3D,
    );
  }
}

/**
 * Attention + output block. `self` for self-attention (`LxmertSelfAttentionLayer`, module names
 * `self`/`output`), `att` for cross-attention (`LxmertCrossAttentionLayer`, `att`/`output`).
 */
abstract class AttentionBlock extends LxmertModule {
  readonly attention: LxmertAttention;
  /** HF `output` (renamed: tf.js Layer has an `output` accessor). */
  readonly attOutput: LxmertAttentionOutput;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource, attName: 'self' | 'att') {
    super(prefix, source);
    this.attention = this.child(new LxmertAttention(cfg, `${prefix}.${attName}`, source));
    this.attOutput = this.child(
      new LxmertAttentionOutput(cfg.hiddenSize, cfg.hiddenSize, `${prefix}.output`, source),
    );
  }

  protected run(
    input: tf.Tensor3D,
    context: tf.Tensor3D,
    mask: tf.Tensor2D | null,
    withProbs: boolean,
  ): AttentionOutput {
    return tf.tidy(() => {
      const a = this.attention.attend(input, context, mask, withProbs);
      const output = this.attOutput.call([a.output, input]);
      return a.probs ? { output, probs: a.probs } : { output };
    });
  }
}

export class LxmertSelfAttentionLayer extends AttentionBlock {
  static readonly className: string = 'LxmertSelfAttentionLayer';
  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source, 'self');
  }

  /** @param input [B, L, H]; @param mask [B, L] additive */
  forward(input: tf.Tensor3D, mask: tf.Tensor2D | null, withProbs = false): AttentionOutput {
    return this.run(input, input, mask, withProbs);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [input, mask] = inputs as tf.Tensor[];
    return this.forward(input as tf.Tensor3D, (mask ?? null) as tf.Tensor2D | null).output;
  }
}

export class LxmertCrossAttentionLayer extends AttentionBlock {
  static readonly className: string = 'LxmertCrossAttentionLayer';
  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source, 'att');
  }

  /** @param input [B, Lq, H]; @param context [B, Lk, H]; @param contextMask [B, Lk] additive */
  forward(
    input: tf.Tensor3D,
    context: tf.Tensor3D,
    contextMask: tf.Tensor2D | null,
    withProbs = false,
  ): AttentionOutput {
    return this.run(input, context, contextMask, withProbs);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [input, context, mask] = inputs as tf.Tensor[];
    return this.forward(
      input as tf.Tensor3D,
      context as tf.Tensor3D,
      (mask ?? null) as tf.Tensor2D | null,
    ).output;
  }
}
