/**
 * LxmertIntermediate, LxmertOutput and LxmertLayer (one single-modality transformer layer).
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dense } from '../../kernels/ops.js';
import type { Activation, LinearWeights } from '../../kernels/types.js';
import type { LxmertConfig } from '../config.js';
import { activationOf } from './activations.js';
import {
  LxmertAttentionOutput,
  LxmertSelfAttentionLayer,
  type AttentionOutput,
} from './attention.js';
import { asList, LxmertModule, maskArg, type Kwargs, type WeightSource } from './module.js';

/** act(dense(x)), H → intermediate. */
export class LxmertIntermediate extends LxmertModule {
  static readonly className: string = 'LxmertIntermediate';
  readonly dense: LinearWeights;
  readonly intermediateActFn: Activation;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source);
    this.dense = this.linear('dense', cfg.hiddenSize, cfg.intermediateSize);
    this.intermediateActFn = activationOf(cfg.hiddenAct);
  }

  /** x [B, L, H] → [B, L, intermediate]. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor3D {
    const [x] = asList(inputs);
    return dense(x, this.dense, this.intermediateActFn) as tf.Tensor3D;
  }
}

/** LayerNorm(dense(x) + residual), intermediate → H. */
export class LxmertOutput extends LxmertAttentionOutput {
  static override readonly className: string = 'LxmertOutput';
  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source, cfg.intermediateSize);
  }
}

/** Self-attention → FFN (HF `LxmertLayer`; `encoder.layer[i]`, `encoder.r_layers[i]`). */
export class LxmertLayer extends LxmertModule {
  static readonly className: string = 'LxmertLayer';
  readonly attention: LxmertSelfAttentionLayer;
  readonly intermediate: LxmertIntermediate;
  /** HF `output` (FORCED_RENAMES: tf.js Layer has an `output` accessor). */
  readonly ffnOutput: LxmertOutput;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source);
    this.attention = this.child(new LxmertSelfAttentionLayer(cfg, `${prefix}.attention`, source));
    this.intermediate = this.child(new LxmertIntermediate(cfg, `${prefix}.intermediate`, source));
    this.ffnOutput = this.child(new LxmertOutput(cfg, `${prefix}.output`, source));
  }

  /** @param hidden [B, L, H]; @param mask [B, L] additive or null */
  forward(hidden: tf.Tensor3D, mask: tf.Tensor2D | null, withProbs = false): AttentionOutput {
    return tf.tidy(() => {
      const a = this.attention.forward(hidden, mask, withProbs);
      const output = this.ffnOutput.call([this.intermediate.call(a.output), a.output]);
      return a.probs ? { output, probs: a.probs } : { output };
    });
  }

  /** hidden [B, L, H]; kwargs.mask [B, L] additive → forward().output. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs = {}): tf.Tensor {
    const [hidden] = asList(inputs) as tf.Tensor3D[];
    return this.forward(hidden, maskArg(kwargs.mask)).output;
  }
}
