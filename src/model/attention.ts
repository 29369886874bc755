/**
 * LxmertAttention, LxmertAttentionOutput, LxmertSelfAttentionLayer, LxmertCrossAttentionLayer.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import { attention, dense, denseAddLayerNorm, splitProjections } from '../../kernels/ops.js';
import type { LinearWeights, NormedLinear } from '../../kernels/types.js';
import { linearHostVectors } from '../../kernels/weights.js';
import type { LxmertConfig } from '../config.js';
import { InputError } from '../errors.js';
import {
  asList,
  LN_EPS,
  LxmertModule,
  maskArg,
  type Kwargs,
  type LayerNormWeights,
  type WeightSource,
} from './module.js';

/** Float32 arrays end to end. */
function concatFloat32(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

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
    super(cfg, prefix, source);
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

  /** [hidden] or [hidden, context]; kwargs.mask the additive key mask → attend().output. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs = {}): tf.Tensor {
    const [hidden, context] = asList(inputs) as tf.Tensor3D[];
    return this.attend(hidden, context ?? hidden, maskArg(kwargs.mask), false).output;
  }
}

/** dense → residual add + LayerNorm, H → H (HF `LxmertAttentionOutput`; `LxmertOutput` too). */
export class LxmertAttentionOutput extends LxmertModule {
  static readonly className: string = 'LxmertAttentionOutput';
  readonly dense: LinearWeights;
  readonly LayerNorm: LayerNormWeights;
  /** dense and LayerNorm as ops.denseAddLayerNorm takes them. */
  readonly normed: NormedLinear;

  /** @param inDim the dense's input width: H here, intermediate in LxmertOutput */
  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource, inDim = cfg.hiddenSize) {
    super(cfg, prefix, source);
    this.dense = this.linear('dense', inDim, cfg.hiddenSize);
    // LayerNorm's host values are read once: for its tensors and for the epilogue below.
    const gamma = this.hostVector('LayerNorm.weight', cfg.hiddenSize);
    const beta = this.hostVector('LayerNorm.bias', cfg.hiddenSize);
    this.LayerNorm = {
      gamma: this.own(tf.tensor1d(gamma, 'float32')),
      beta: this.own(tf.tensor1d(beta, 'float32')),
    };
    const w = this.dense;
    // bias, gamma, beta (and int8 row scales) as one tensor for the fused WebGPU kernel: a few
    // KB (the weight itself is not copied), written from host data at construction (so a
    // compile-only warm-up never leaves it uncomputed and a device loss can restore it); none
    // for the tf-op layouts.
    const vectors = linearHostVectors(w);
    const epilogue = vectors
      ? this.own(
          tf.tensor2d(
            concatFloat32([vectors.bias, gamma, beta, ...(vectors.scales ? [vectors.scales] : [])]),
            [vectors.scales ? 4 : 3, cfg.hiddenSize],
          ),
        )
      : null;
    this.normed = {
      linear: w,
      gamma: this.LayerNorm.gamma,
      beta: this.LayerNorm.beta,
      epilogue: () => {
        if (!epilogue) throw new InputError('weights', "'f32', 'f16' or 'int8'", `'${w.format}'`);
        return epilogue;
      },
    };
  }

  /** LayerNorm(dense(x) + residual). */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor3D {
    const [x, residual] = inputs as tf.Tensor3D[];
    const rows = x.size / x.shape[x.shape.length - 1];
    return denseAddLayerNorm(x, residual, [this.normed], rows, LN_EPS) as tf.Tensor3D;
  }
}

/**
 * Attention + output block: `self`/`output` for self-attention (`LxmertSelfAttentionLayer`),
 * `att`/`output` for cross-attention (`LxmertCrossAttentionLayer`).
 */
abstract class AttentionBlock extends LxmertModule {
  /** HF `output` (FORCED_RENAMES: tf.js Layer has an `output` accessor). */
  readonly attOutput: LxmertAttentionOutput;
  protected readonly inner: LxmertAttention;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource, attName: 'self' | 'att') {
    super(cfg, prefix, source);
    this.inner = this.child(new LxmertAttention(cfg, `${prefix}.${attName}`, source));
    this.attOutput = this.child(new LxmertAttentionOutput(cfg, `${prefix}.output`, source));
  }

  protected run(
    input: tf.Tensor3D,
    context: tf.Tensor3D,
    mask: tf.Tensor2D | null,
    withProbs: boolean,
  ): AttentionOutput {
    return tf.tidy(() => {
      const a = this.inner.attend(input, context, mask, withProbs);
      const output = this.attOutput.call([a.output, input]);
      return a.probs ? { output, probs: a.probs } : { output };
    });
  }
}

export class LxmertSelfAttentionLayer extends AttentionBlock {
  static readonly className: string = 'LxmertSelfAttentionLayer';
  readonly self: LxmertAttention;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source, 'self');
    this.self = this.inner;
  }

  /** @param input [B, L, H]; @param mask [B, L] additive */
  forward(input: tf.Tensor3D, mask: tf.Tensor2D | null, withProbs = false): AttentionOutput {
    return this.run(input, input, mask, withProbs);
  }

  /** input [B, L, H]; kwargs.mask [B, L] additive → forward().output. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs = {}): tf.Tensor {
    const [input] = asList(inputs) as tf.Tensor3D[];
    return this.forward(input, maskArg(kwargs.mask)).output;
  }
}

export class LxmertCrossAttentionLayer extends AttentionBlock {
  static readonly className: string = 'LxmertCrossAttentionLayer';
  readonly att: LxmertAttention;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source, 'att');
    this.att = this.inner;
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
   * Both directions through this one module, each stream projected once (its q serves one
   * direction, its k and v the other): what LxmertXLayer.crossAtt runs.
   * @returns [a's new states (+ a→b probs), b's new states]
   */
  forwardBothWays(
    a: tf.Tensor3D,
    aMask: tf.Tensor2D | null,
    b: tf.Tensor3D,
    bMask: tf.Tensor2D | null,
    withProbs = false,
  ): [AttentionOutput, AttentionOutput] {
    return tf.tidy(() => {
      const pa = this.att.project(a); // [B, La, 3H]
      const pb = this.att.project(b); // [B, Lb, 3H]
      const ab = this.att.attendProjected(pa, pb, bMask, withProbs);
      const ba = this.att.attendProjected(pb, pa, aMask, false);
      const outA = this.attOutput.call([ab.output, a]);
      const outB = this.attOutput.call([ba.output, b]);
      return [ab.probs ? { output: outA, probs: ab.probs } : { output: outA }, { output: outB }];
    });
  }

  /** [input, context]; kwargs.mask [B, Lk] additive → forward().output. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs = {}): tf.Tensor {
    const [input, context] = asList(inputs) as tf.Tensor3D[];
    return this.forward(input, context, maskArg(kwargs.mask)).output;
  }
}
