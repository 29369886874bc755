/**
 * LxmertXLayer: one cross-modality layer. Both cross-attention directions use the same
 * `visual_attention` module (weights, output dense and LayerNorm included), as in HF.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LxmertConfig } from '../config.js';
import {
  LxmertCrossAttentionLayer,
  LxmertSelfAttentionLayer,
  type AttentionOutput,
} from './attention.js';
import { LxmertIntermediate, LxmertOutput } from './layer.js';
import { asList, LxmertModule, maskArg, type Kwargs, type WeightSource } from './module.js';

export type XLayerOutput = {
  lang: tf.Tensor3D;
  visn: tf.Tensor3D;
  /** Language→vision cross-attention probabilities [B, heads, L, V], on request. */
  crossProbs?: tf.Tensor4D;
};

export class LxmertXLayer extends LxmertModule {
  static readonly className: string = 'LxmertXLayer';
  readonly visualAttention: LxmertCrossAttentionLayer;
  readonly langSelfAtt: LxmertSelfAttentionLayer;
  readonly visnSelfAtt: LxmertSelfAttentionLayer;
  readonly langInter: LxmertIntermediate;
  readonly langOutput: LxmertOutput;
  readonly visnInter: LxmertIntermediate;
  readonly visnOutput: LxmertOutput;

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source);
    const c = <T extends LxmertModule>(m: T) => this.child(m);
    this.visualAttention = c(
      new LxmertCrossAttentionLayer(cfg, `${prefix}.visual_attention`, source),
    );
    this.langSelfAtt = c(new LxmertSelfAttentionLayer(cfg, `${prefix}.lang_self_att`, source));
    this.visnSelfAtt = c(new LxmertSelfAttentionLayer(cfg, `${prefix}.visn_self_att`, source));
    this.langInter = c(new LxmertIntermediate(cfg, `${prefix}.lang_inter`, source));
    this.langOutput = c(new LxmertOutput(cfg, `${prefix}.lang_output`, source));
    this.visnInter = c(new LxmertIntermediate(cfg, `${prefix}.visn_inter`, source));
    this.visnOutput = c(new LxmertOutput(cfg, `${prefix}.visn_output`, source));
  }

  /**
   * (1) cross-attention, both directions from the layer's inputs through the one shared
   * `visual_attention` module (HF `cross_att`).
   */
  crossAtt(
    lang: tf.Tensor3D,
    langMask: tf.Tensor2D | null,
    visn: tf.Tensor3D,
    visnMask: tf.Tensor2D | null,
    withProbs = false,
  ): [AttentionOutput, AttentionOutput] {
    return this.visualAttention.forwardBothWays(lang, langMask, visn, visnMask, withProbs);
  }

  /** (2) self-attention per stream (HF `self_att`). */
  selfAtt(
    lang: tf.Tensor3D,
    langMask: tf.Tensor2D | null,
    visn: tf.Tensor3D,
    visnMask: tf.Tensor2D | null,
  ): [tf.Tensor3D, tf.Tensor3D] {
    return [
      this.langSelfAtt.forward(lang, langMask).output,
      this.visnSelfAtt.forward(visn, visnMask).output,
    ];
  }

  /** (3) feed-forward per stream (HF `output_fc`). */
  outputFc(lang: tf.Tensor3D, visn: tf.Tensor3D): [tf.Tensor3D, tf.Tensor3D] {
    return [
      this.langOutput.call([this.langInter.call(lang), lang]),
      this.visnOutput.call([this.visnInter.call(visn), visn]),
    ];
  }

  /**
   * @param lang [B, L, H]; @param langMask [B, L] additive or null
   * @param visn [B, V, H]; @param visnMask [B, V] additive or null
   */
  forward(
    lang: tf.Tensor3D,
    langMask: tf.Tensor2D | null,
    visn: tf.Tensor3D,
    visnMask: tf.Tensor2D | null,
    withProbs = false,
  ): XLayerOutput {
    return tf.tidy(() => {
      const [l2v, v2l] = this.crossAtt(lang, langMask, visn, visnMask, withProbs);
      const [langAtt, visnAtt] = this.selfAtt(l2v.output, langMask, v2l.output, visnMask);
      const [langOut, visnOut] = this.outputFc(langAtt, visnAtt);
      const out: XLayerOutput = { lang: langOut, visn: visnOut };
      if (l2v.probs) out.crossProbs = l2v.probs;
      return out;
    });
  }

  /**
   * The language stream alone, for a last layer whose vision output nobody reads (the VQA path:
   * the pooler reads language token 0). Same math as forward()'s `lang`.
   */
  forwardLang(
    lang: tf.Tensor3D,
    langMask: tf.Tensor2D | null,
    visn: tf.Tensor3D,
    visnMask: tf.Tensor2D | null,
    withProbs = false,
  ): { lang: tf.Tensor3D; crossProbs?: tf.Tensor4D } {
    return tf.tidy(() => {
      const l2v = this.visualAttention.forward(lang, visn, visnMask, withProbs);
      const langAtt = this.langSelfAtt.forward(l2v.output, langMask).output;
      const out = this.langOutput.call([this.langInter.call(langAtt), langAtt]) as tf.Tensor3D;
      return l2v.probs ? { lang: out, crossProbs: l2v.probs } : { lang: out };
    });
  }

  /** [lang, visn]; kwargs.langMask, kwargs.visnMask additive → [forward().lang, .visn]. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs = {}): tf.Tensor[] {
    const [lang, visn] = asList(inputs) as tf.Tensor3D[];
    const r = this.forward(lang, maskArg(kwargs.langMask), visn, maskArg(kwargs.visnMask));
    return [r.lang, r.visn];
  }
}
