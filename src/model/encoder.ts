/**
 * LxmertEncoder: visual feature encoder, then l language layers, r vision (object-relationship)
 * layers, x cross-modality layers, in that order.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import { groupedKernelsActive } from '../../kernels/ops.js';
import type { LxmertConfig } from '../config.js';
import { LxmertVisualFeatureEncoder } from './embeddings.js';
import { LxmertLayer } from './layer.js';
import { asList, LxmertModule, maskArg, type Kwargs, type WeightSource } from './module.js';
import { LxmertXLayer, stackStreams, unstackStreams } from './x_layer.js';

export type EncoderOutput = {
  lang: tf.Tensor3D;
  visn: tf.Tensor3D;
  /** l + x entries: after each language layer, then the language stream of each cross layer. */
  langHidden: tf.Tensor3D[];
  /** r + x entries. */
  visnHidden: tf.Tensor3D[];
  langAttentions: tf.Tensor4D[];
  visnAttentions: tf.Tensor4D[];
  crossAttentions: tf.Tensor4D[];
};

export class LxmertEncoder extends LxmertModule {
  static readonly className: string = 'LxmertEncoder';
  readonly visnFc: LxmertVisualFeatureEncoder;
  readonly layer: LxmertLayer[] = [];
  readonly rLayers: LxmertLayer[] = [];
  readonly xLayers: LxmertXLayer[] = [];

  constructor(cfg: LxmertConfig, prefix: string, source: WeightSource) {
    super(cfg, prefix, source);
    this.visnFc = this.child(new LxmertVisualFeatureEncoder(cfg, `${prefix}.visn_fc`, source));
    for (let i = 0; i < cfg.lLayers; i++) {
      this.layer.push(this.child(new LxmertLayer(cfg, `${prefix}.layer.${i}`, source)));
    }
    for (let i = 0; i < cfg.xLayers; i++) {
      this.xLayers.push(this.child(new LxmertXLayer(cfg, `${prefix}.x_layers.${i}`, source)));
    }
    for (let i = 0; i < cfg.rLayers; i++) {
      this.rLayers.push(this.child(new LxmertLayer(cfg, `${prefix}.r_layers.${i}`, source)));
    }
  }

  /**
   * The language output alone ([B, L, H]), skipping the vision stream of the last cross layer,
   * which only the vision output and the visual heads read: the VQA path's encoder.
   */
  forwardLang(
    lang: tf.Tensor3D,
    langMask: tf.Tensor2D | null,
    feats: tf.Tensor3D,
    pos: tf.Tensor3D,
    visnMask: tf.Tensor2D | null,
    withProbs = false,
  ): { lang: tf.Tensor3D; crossProbs: tf.Tensor4D[] } {
    return tf.tidy(() => {
      let visn = this.visnFc.call([feats, pos]);
      for (const layer of this.layer) lang = layer.forward(lang, langMask).output;
      for (const layer of this.rLayers) visn = layer.forward(visn, visnMask).output;
      const crossProbs: tf.Tensor4D[] = [];
      const last = this.xLayers.length - 1;
      if (groupedKernelsActive() && last >= 0) {
        // Stacked streams from the first cross layer to the last (see LxmertXLayer).
        let s = stackStreams(lang, visn);
        for (let i = 0; i < last; i++) {
          const r = this.xLayers[i].forwardStacked(s, langMask, visnMask, withProbs);
          s = r.stacked;
          if (r.crossProbs) crossProbs.push(r.crossProbs);
        }
        const r = this.xLayers[last].forwardLangStacked(s, langMask, visnMask, withProbs);
        if (r.crossProbs) crossProbs.push(r.crossProbs);
        return { lang: r.lang, crossProbs };
      }
      for (let i = 0; i < last; i++) {
        const r = this.xLayers[i].forward(lang, langMask, visn, visnMask, withProbs);
        lang = r.lang;
        visn = r.visn;
        if (r.crossProbs) crossProbs.push(r.crossProbs);
      }
      if (last >= 0) {
        const r = this.xLayers[last].forwardLang(lang, langMask, visn, visnMask, withProbs);
        lang = r.lang;
        if (r.crossProbs) crossProbs.push(r.crossProbs);
      }
      return { lang, crossProbs };
    });
  }

  /**
   * @param lang [B, L, H] embedding output; @param langMask [B, L] additive or null
   * @param feats [B, V, F]; @param pos [B, V, P]; @param visnMask [B, V] additive or null
   * @param keep keep every hidden state (true) or only the final ones (false)
   */
  forward(
    lang: tf.Tensor3D,
    langMask: tf.Tensor2D | null,
    feats: tf.Tensor3D,
    pos: tf.Tensor3D,
    visnMask: tf.Tensor2D | null,
    withProbs: boolean,
    keep: boolean,
  ): EncoderOutput {
    return tf.tidy(() => {
      let visn = this.visnFc.call([feats, pos]);
      const out: EncoderOutput = {
        lang,
        visn,
        langHidden: [],
        visnHidden: [],
        langAttentions: [],
        visnAttentions: [],
        crossAttentions: [],
      };
      for (const layer of this.layer) {
        const r = layer.forward(lang, langMask, withProbs);
        lang = r.output;
        if (keep) out.langHidden.push(lang);
        if (r.probs) out.langAttentions.push(r.probs);
      }
      for (const layer of this.rLayers) {
        const r = layer.forward(visn, visnMask, withProbs);
        visn = r.output;
        if (keep) out.visnHidden.push(visn);
        if (r.probs) out.visnAttentions.push(r.probs);
      }
      if (groupedKernelsActive() && this.xLayers.length > 0) {
        // Stacked streams from the first cross layer to the last (see LxmertXLayer).
        let s = stackStreams(lang, visn);
        for (const layer of this.xLayers) {
          const r = layer.forwardStacked(s, langMask, visnMask, withProbs);
          s = r.stacked;
          if (keep) {
            const u = unstackStreams(s);
            out.langHidden.push(u.lang);
            out.visnHidden.push(u.visn);
          }
          if (r.crossProbs) out.crossAttentions.push(r.crossProbs);
        }
        ({ lang, visn } = unstackStreams(s));
      } else {
        for (const layer of this.xLayers) {
          const r = layer.forward(lang, langMask, visn, visnMask, withProbs);
          lang = r.lang;
          visn = r.visn;
          if (keep) {
            out.langHidden.push(lang);
            out.visnHidden.push(visn);
          }
          if (r.crossProbs) out.crossAttentions.push(r.crossProbs);
        }
      }
      out.lang = lang;
      out.visn = visn;
      return out;
    });
  }

  /**
   * [lang, feats, pos]; kwargs.langMask, kwargs.visnMask additive → [forward().lang, .visn]
   * (HF's encoder outputs).
   */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs = {}): tf.Tensor[] {
    const [lang, feats, pos] = asList(inputs) as tf.Tensor3D[];
    const langMask = maskArg(kwargs.langMask);
    const r = this.forward(lang, langMask, feats, pos, maskArg(kwargs.visnMask), false, false);
    return [r.lang, r.visn];
  }
}
