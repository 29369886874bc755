/**
 * LxmertModel: embeddings, the three encoders and the pooler.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LxmertConfig } from '../config.js';
import { LxmertEmbeddings } from './embeddings.js';
import { LxmertEncoder } from './encoder.js';
import { LxmertPooler } from './heads.js';
import { extendedMask, validateInputs, type ForwardOptions, type LxmertInputs } from './inputs.js';
import { asList, LxmertModule, type Kwargs, type WeightSource } from './module.js';
import type { LxmertModelOutput } from './outputs.js';

/** Outputs by the golden files' names (`language_output`, `language_hidden_states.3` …). */
export type LxmertOutputs = Record<string, tf.Tensor>;

export class LxmertModel extends LxmertModule {
  static readonly className: string = 'LxmertModel';
  readonly embeddings: LxmertEmbeddings;
  readonly encoder: LxmertEncoder;
  readonly pooler: LxmertPooler;

  /** @param prefix '' for a bare LxmertModel checkpoint, 'lxmert' inside the head classes */
  constructor(config: LxmertConfig, source: WeightSource, prefix = '') {
    super(config, prefix, source);
    const p = prefix ? `${prefix}.` : '';
    this.embeddings = this.child(new LxmertEmbeddings(config, `${p}embeddings`, source));
    this.encoder = this.child(new LxmertEncoder(config, `${p}encoder`, source));
    this.pooler = this.child(new LxmertPooler(config, `${p}pooler`, source));
  }

  /** Text embeddings [B, L, H] and the additive key masks (call inside a tidy). */
  private embed(inputs: LxmertInputs): {
    emb: tf.Tensor3D;
    langMask: tf.Tensor2D | null;
    visnMask: tf.Tensor2D | null;
  } {
    const tokenTypes = inputs.tokenTypeIds ?? tf.zerosLike(inputs.inputIds);
    return {
      emb: this.embeddings.call([inputs.inputIds, tokenTypes]),
      // An absent text mask is all ones: its additive form is all zeros, so it is skipped.
      langMask: inputs.attentionMask ? extendedMask(inputs.attentionMask) : null,
      visnMask: inputs.visualAttentionMask ? extendedMask(inputs.visualAttentionMask) : null,
    };
  }

  /** Run the model. The caller owns (and must dispose) every returned tensor. */
  forward(inputs: LxmertInputs, opts: ForwardOptions = {}): LxmertModelOutput {
    validateInputs(this.config, inputs, opts.validate ?? true);
    return tf.tidy(() => {
      const { emb, langMask, visnMask } = this.embed(inputs);
      const withProbs = opts.outputAttentions ?? false;
      const keep = opts.outputHiddenStates ?? false;
      const enc = this.encoder.forward(
        emb,
        langMask,
        inputs.visualFeats,
        inputs.visualPos,
        visnMask,
        withProbs,
        keep,
      );
      const out: LxmertOutputs = {
        language_output: enc.lang,
        vision_output: enc.visn,
        pooled_output: this.pooler.call(enc.lang),
      };
      const put = (name: string, ts: tf.Tensor[]) =>
        ts.forEach((t, i) => (out[`${name}.${i}`] = t));
      if (keep) {
        put('language_hidden_states', enc.langHidden);
        put('vision_hidden_states', enc.visnHidden);
      }
      if (withProbs) {
        put('language_attentions', enc.langAttentions);
        put('vision_attentions', enc.visnAttentions);
        put('cross_encoder_attentions', enc.crossAttentions);
      }
      if (opts.outputEmbeddings) {
        out.embedding_output = emb;
        out.visual_embedding_output = this.encoder.visnFc.call([
          inputs.visualFeats,
          inputs.visualPos,
        ]);
      }
      return out as LxmertModelOutput;
    });
  }

  /**
   * pooled_output alone ([B, H]) by the shortest path: the last cross layer's vision stream is
   * skipped (nothing it computes reaches the pooler). What answerScores runs.
   */
  pooledOutput(inputs: LxmertInputs, opts: Pick<ForwardOptions, 'validate'> = {}): tf.Tensor2D {
    return this.pooledPath(inputs, opts, false).pooled;
  }

  /**
   * pooled_output by the same shortest path, plus the pooled token's cross-modality attention:
   * language position 0's softmax over the visual regions in every cross layer, per head,
   * `[B, x_layers, heads, V]` (cross_encoder_attentions.<j>[:, :, 0, :]). For heatmaps.
   */
  pooledOutputWithCrossAttention(
    inputs: LxmertInputs,
    opts: Pick<ForwardOptions, 'validate'> = {},
  ): { pooled: tf.Tensor2D; crossAttention: tf.Tensor4D } {
    const r = this.pooledPath(inputs, opts, true);
    return { pooled: r.pooled, crossAttention: r.crossAttention! };
  }

  private pooledPath(
    inputs: LxmertInputs,
    opts: Pick<ForwardOptions, 'validate'>,
    withProbs: boolean,
  ): { pooled: tf.Tensor2D; crossAttention?: tf.Tensor4D } {
    validateInputs(this.config, inputs, opts.validate ?? true);
    return tf.tidy(() => {
      const { emb, langMask, visnMask } = this.embed(inputs);
      const enc = this.encoder.forwardLang(
        emb,
        langMask,
        inputs.visualFeats,
        inputs.visualPos,
        visnMask,
        withProbs,
      );
      const pooled = this.pooler.call(enc.lang);
      if (!withProbs) return { pooled };
      // [B, heads, L, V] per cross layer → the first token's rows → [B, X, heads, V]
      const rows = enc.crossProbs.map((p) =>
        tf.squeeze(tf.slice(p, [0, 0, 0, 0], [-1, -1, 1, -1]), [2]),
      );
      return { pooled, crossAttention: tf.stack(rows, 1) as tf.Tensor4D };
    });
  }

  /**
   * [inputIds, visualFeats, visualPos]; kwargs.tokenTypeIds, .attentionMask,
   * .visualAttentionMask → [language_output, vision_output, pooled_output] of forward().
   */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs = {}): tf.Tensor[] {
    const out = this.forward(lxmertInputs(inputs, kwargs));
    return [out.language_output, out.vision_output, out.pooled_output];
  }
}

/** The LxmertInputs of a call(): tensors in HF's argument order, the optional ones as kwargs. */
export function lxmertInputs(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): LxmertInputs {
  const [inputIds, visualFeats, visualPos] = asList(inputs);
  const x: LxmertInputs = {
    inputIds: inputIds as tf.Tensor2D,
    visualFeats: visualFeats as tf.Tensor3D,
    visualPos: visualPos as tf.Tensor3D,
  };
  for (const k of ['tokenTypeIds', 'attentionMask', 'visualAttentionMask'] as const) {
    const t = kwargs[k];
    if (t instanceof tf.Tensor) x[k] = t as tf.Tensor2D;
  }
  return x;
}
