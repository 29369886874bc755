/**
 * LxmertAttention, LxmertAttentionOutput, LxmertSelfAttentionLayer, LxmertCrossAttentionLayer.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import { addLayerNorm, attention, dense, splitProjections } from '../../kernels/ops.js';
import type { LinearWeights } from '../../kernels/types.js';
import type { LxmertConfig } from '../config.js';
import { LN_EPS, LxmertModule, type LayerNormWeights, type WeightSource } from './module.js';

/** Output of an attention block: the new hidden states and, on request, the probabilities. */
export type AttentionOutput = {
  output: tf.Tensor3D;
  /** [B, heads, Lq, Lk] */
  probs?: tf.Tensor4D;
};

/**
 * Q/K/V projections + scaled dot-product attention (HF `LxmertAttention`). The three
 * projections are one Linear of [3H, H] (HF's query, key, value rows stacked), so a stream is
 * projected once and attention reads q, k, v as column ranges of the result.
 */
export class LxmertAttention extends LxmertModule {
  static readonly className: string = 'LxmertAttention';
  /** query | key | value, [3H, H]. */
  readonly qkv: LinearWeights;
  readonly numHeads: number;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(prefix, source);
    const h = cfg.hiddenSize;
    this.numHeads = cfg.numAttentionHeads;
    this.qkv = this.linearConcat(['query', 'key', 'value'], h, h);
  }

  /** [B, L, H] → [B, L, 3H]: q | k | v of one stream. */
  project(x: tf.Tensor3D): tf.Tensor3D {
    return dense(x, this.qkv) as tf.Tensor3D;
  }

  /**
   * Attention of `queries`' q over `keys`' k and v (both from project()).
   * @param mask [B, Lk] additive key mask, or null
   * @returns context vectors [B, Lq, H] (+ probs [B, heads, Lq, Lk])
   */
  attendProjected(
    queries: tf.Tensor3D,
    keys: tf.Tensor3D,
    mask: tf.Tensor2D | null,
    withProbs: boolean,
  ): AttentionOutput {
    const [q] = splitProjections(queries, 3);
    const [, k, v] = splitProjections(keys, 3);
    const r = attention(q, k, v, mask, this.numHeads, withProbs);
    return r.probs ? { output: r.context, probs: r.probs } : { output: r.context };
  }

  /**
   * @param hidden [B, Lq, H] queries' stream
   * @param context [B, Lk, H] keys' and values' stream
   * @param mask [B, Lk] additive key mask, or null
   */
  attend(
    hidden: tf.Tensor3D,
    context: tf.Tensor3D,
    mask: tf.Tensor2D | null,
    withProbs: boolean,
  ): AttentionOutput {
    return tf.tidy(() => {
      const ph = this.project(hidden);
      const pc = context === hidden ? ph : this.project(context);
      return this.attendProjected(ph, pc, mask, withProbs);
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

  /**
   * Both directions with this one module, as LxmertXLayer.cross_att does: a attends to b and b
   * to a, each stream projected once (its q serves one direction, its k and v the other).
   * @returns [a's new states (+ a→b probs), b's new states]
   */
  both(
    a: tf.Tensor3D,
    aMask: tf.Tensor2D | null,
    b: tf.Tensor3D,
    bMask: tf.Tensor2D | null,
    withProbs = false,
  ): [AttentionOutput, AttentionOutput] {
    return tf.tidy(() => {
      const pa = this.attention.project(a); // [B, La, 3H]
      const pb = this.attention.project(b); // [B, Lb, 3H]
      const ab = this.attention.attendProjected(pa, pb, bMask, withProbs);
      const ba = this.attention.attendProjected(pb, pa, aMask, false);
      const outA = this.attOutput.call([ab.output, a]);
      const outB = this.attOutput.call([ba.output, b]);
      return [ab.probs ? { output: outA, probs: ab.probs } : { output: outA }, { output: outB }];
    });
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
