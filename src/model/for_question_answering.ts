/**
 * LxmertForQuestionAnswering: LxmertModel + the answer head.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LxmertConfig } from '../config.js';
import { LxmertVisualAnswerHead } from './heads.js';
import type { ForwardOptions, LxmertInputs } from './inputs.js';
import { lxmertInputs, LxmertModel } from './lxmert_model.js';
import { LxmertModule, type Kwargs, type WeightSource } from './module.js';
import type { LxmertForQuestionAnsweringOutput } from './outputs.js';

export class LxmertForQuestionAnswering extends LxmertModule {
  static readonly className: string = 'LxmertForQuestionAnswering';
  readonly lxmert: LxmertModel;
  readonly answerHead: LxmertVisualAnswerHead;

  constructor(config: LxmertConfig, source: WeightSource) {
    super(config, '', source);
    this.lxmert = this.child(new LxmertModel(config, source, 'lxmert'));
    this.answerHead = this.child(new LxmertVisualAnswerHead(config, 'answer_head', source));
  }

  /** LxmertModel's outputs plus `question_answering_score` [B, num_qa_labels]. */
  forward(inputs: LxmertInputs, opts: ForwardOptions = {}): LxmertForQuestionAnsweringOutput {
    const base = this.lxmert.forward(inputs, opts);
    return tf.tidy(() => ({
      ...base,
      question_answering_score: this.answerHead.call(base.pooled_output),
    }));
  }

  /** The VQA path alone: encoders, pooler, answer head → [B, num_qa_labels]. */
  answerScores(inputs: LxmertInputs, opts: ForwardOptions = {}): tf.Tensor2D {
    return tf.tidy(() => this.answerHead.call(this.lxmert.pooledOutput(inputs, opts)));
  }

  /** answerScores plus the pooled token's cross-modality attention [B, x_layers, heads, V]. */
  answerScoresWithCrossAttention(
    inputs: LxmertInputs,
    opts: ForwardOptions = {},
  ): { scores: tf.Tensor2D; crossAttention: tf.Tensor4D } {
    return tf.tidy(() => {
      const r = this.lxmert.pooledOutputWithCrossAttention(inputs, opts);
      return { scores: this.answerHead.call(r.pooled), crossAttention: r.crossAttention };
    });
  }

  /** LxmertModel.call's inputs and kwargs → forward().question_answering_score. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs = {}): tf.Tensor {
    const out = this.forward(lxmertInputs(inputs, kwargs));
    const score = out.question_answering_score;
    tf.dispose(Object.values(out).filter((t) => t !== score));
    return score;
  }
}
