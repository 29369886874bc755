/**
 * LxmertXLayer: one cross-modality layer. Both cross-attention directions use the same
 * `visual_attention` module (weights, output dense and LayerNorm included), as in HF.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LxmertConfig } from '../config.js';
import { LxmertCrossAttentionLayer, LxmertSelfAttentionLayer } from './attention.js';
import { LxmertIntermediate, LxmertOutput } from './layer.js';
import { LxmertModule, type WeightSource } from './module.js';

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
    super(prefix, source);
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
      // (1) cross-attention, both directions from the layer's inputs, one shared module
      const [l2v, v2l] = this.visualAttention.both(lang, langMask, visn, visnMask, withProbs);
      // (2) self-attention per stream
      const langAtt = this.langSelfAtt.forward(l2v.output, langMask).output;
      const visnAtt = this.visnSelfAtt.forward(v2l.output, visnMask).output;
      // (3) feed-forward per stream
      const langOut = this.langOutput.call([this.langInter.call(langAtt), langAtt]);
      const visnOut = this.visnOutput.call([this.visnInter.call(visnAtt), visnAtt]);
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
  ): tf.Tensor3D {
    return tf.tidy(() => {
      const l2v = this.visualAttention.forward(lang, visn, visnMask);
      const langAtt = this.langSelfAtt.forward(l2v.output, langMask).output;
      return this.langOutput.call([this.langInter.call(langAtt), langAtt]);
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const [lang, langMask, visn, visnMask] = inputs as tf.Tensor[];
    const r = this.forward(
      lang as tf.Tensor3D,
      (langMask ?? null) as tf.Tensor2D | null,
      visn as tf.Tensor3D,
      (visnMask ?? null) as tf.Tensor2D | null,
    );
    return [r.lang, r.visn];
  }
}
