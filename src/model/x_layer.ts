/**
 * LxmertXLayer: one cross-modality layer. Both cross-attention directions use the same
 * `visual_attention` module (weights, output dense and LayerNorm included), as in HF.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  dense,
  denseAddLayerNorm,
  groupedAttention,
  groupedDense,
  groupedKernelsActive,
} from '../../kernels/ops.js';
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

/**
 * A cross-modality layer's two streams as the rows of one tensor: language [B·L, H], then
 * vision [B·V, H]. With the grouped WebGPU kernels, one dispatch then serves both streams of an
 * op (the shared cross-attention module's dense; the two streams' same-shaped Linear layers as
 * one grouped dense), and consecutive cross layers pass it on without splitting.
 */
export interface StackedStreams {
  rows: tf.Tensor2D;
  batch: number;
  langLength: number;
  visnLength: number;
}

/** [B, L, H] and [B, V, H] → stacked rows (one concat). */
export function stackStreams(lang: tf.Tensor3D, visn: tf.Tensor3D): StackedStreams {
  const [batch, langLength, h] = lang.shape;
  const rows = tf.tidy(
    () => tf.concat([tf.reshape(lang, [-1, h]), tf.reshape(visn, [-1, h])], 0) as tf.Tensor2D,
  );
  return { rows, batch, langLength, visnLength: visn.shape[1] };
}

/** Stacked rows → [B, L, H] and [B, V, H] (two slices). */
export function unstackStreams(s: StackedStreams): { lang: tf.Tensor3D; visn: tf.Tensor3D } {
  const h = s.rows.shape[1];
  const split = s.batch * s.langLength;
  return tf.tidy(() => ({
    lang: tf.reshape(tf.slice(s.rows, [0, 0], [split, h]), [s.batch, s.langLength, h]),
    visn: tf.reshape(tf.slice(s.rows, [split, 0], [-1, h]), [s.batch, s.visnLength, h]),
  }));
}

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
   * forward() over stacked streams, both streams in each dispatch (the grouped WebGPU kernels:
   * 8 dispatches a layer): (1) the shared cross-attention module's QKV dense over all rows, both
   * directions as one grouped attention, its output dense + residual + LayerNorm over all rows;
   * (2) the two self-attention blocks as a grouped QKV dense, a grouped attention and a grouped
   * dense + add + LayerNorm; (3) the two FFNs as a grouped dense + GELU and a grouped dense + add
   * + LayerNorm. On other backends the same ops run stream by stream.
   */
  forwardStacked(
    s: StackedStreams,
    langMask: tf.Tensor2D | null,
    visnMask: tf.Tensor2D | null,
    withProbs = false,
  ): { stacked: StackedStreams; crossProbs?: tf.Tensor4D } {
    return tf.tidy(() => {
      const { rows, batch, langLength: l, visnLength: v } = s;
      const split = batch * l;
      const heads = this.visualAttention.att.numHeads;
      const cross = groupedAttention(
        dense(rows, this.visualAttention.att.qkv) as tf.Tensor2D,
        [
          { qRow: 0, lq: l, kRow: split, lk: v, mask: visnMask },
          { qRow: split, lq: v, kRow: 0, lk: l, mask: langMask },
        ],
        batch,
        heads,
        withProbs,
      );
      const all = rows.shape[0];
      const x1 = denseAddLayerNorm(
        cross.context,
        rows,
        [this.visualAttention.attOutput.normed],
        all,
      );
      const self = groupedAttention(
        groupedDense(
          x1,
          [this.langSelfAtt.self.qkv, this.visnSelfAtt.self.qkv],
          split,
        ) as tf.Tensor2D,
        [
          { qRow: 0, lq: l, kRow: 0, lk: l, mask: langMask },
          { qRow: split, lq: v, kRow: split, lk: v, mask: visnMask },
        ],
        batch,
        heads,
      );
      const x2 = denseAddLayerNorm(
        self.context,
        x1,
        [this.langSelfAtt.attOutput.normed, this.visnSelfAtt.attOutput.normed],
        split,
      );
      const inter = groupedDense(
        x2,
        [this.langInter.dense, this.visnInter.dense],
        split,
        this.langInter.intermediateActFn,
      );
      const out = denseAddLayerNorm(
        inter,
        x2,
        [this.langOutput.normed, this.visnOutput.normed],
        split,
      ) as tf.Tensor2D;
      const stacked = { ...s, rows: out };
      return cross.probs ? { stacked, crossProbs: cross.probs } : { stacked };
    });
  }

  /**
   * forwardLang() over stacked streams: the language → vision direction of cross-attention
   * (one QKV dense over all rows: the language rows' q, the vision rows' k and v), then the
   * language stream's self-attention and FFN.
   */
  forwardLangStacked(
    s: StackedStreams,
    langMask: tf.Tensor2D | null,
    visnMask: tf.Tensor2D | null,
    withProbs = false,
  ): { lang: tf.Tensor3D; crossProbs?: tf.Tensor4D } {
    return tf.tidy(() => {
      const { rows, batch, langLength: l, visnLength: v } = s;
      const split = batch * l;
      const h = rows.shape[1];
      const cross = groupedAttention(
        dense(rows, this.visualAttention.att.qkv) as tf.Tensor2D,
        [{ qRow: 0, lq: l, kRow: split, lk: v, mask: visnMask }],
        batch,
        this.visualAttention.att.numHeads,
        withProbs,
      );
      const lang = tf.slice(rows, [0, 0], [split, h]);
      const x1 = denseAddLayerNorm(
        cross.context,
        lang,
        [this.visualAttention.attOutput.normed],
        split,
      );
      const langAtt = this.langSelfAtt.forward(
        tf.reshape(x1, [batch, l, h]) as tf.Tensor3D,
        langMask,
      ).output;
      const out = this.langOutput.call([this.langInter.call(langAtt), langAtt]);
      return cross.probs ? { lang: out, crossProbs: cross.probs } : { lang: out };
    });
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
    if (groupedKernelsActive()) {
      return tf.tidy(() => {
        const r = this.forwardStacked(stackStreams(lang, visn), langMask, visnMask, withProbs);
        const out: XLayerOutput = unstackStreams(r.stacked);
        if (r.crossProbs) out.crossProbs = r.crossProbs;
        return out;
      });
    }
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
    if (groupedKernelsActive()) {
      return tf.tidy(() =>
        this.forwardLangStacked(stackStreams(lang, visn), langMask, visnMask, withProbs),
      );
    }
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
