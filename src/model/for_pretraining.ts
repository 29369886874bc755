/**
 * LxmertForPreTraining: LxmertModel + masked-LM head (decoder tied to the word embeddings),
 * cross-modality matching, visual object/attribute/feature heads and the QA head.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LxmertConfig } from '../config.js';
import { LxmertError } from '../errors.js';
import { LxmertPreTrainingHeads, LxmertVisualAnswerHead, LxmertVisualObjHead } from './heads.js';
import type { ForwardOptions, LxmertInputs } from './inputs.js';
import { lxmertInputs, LxmertModel, type LxmertOutputs } from './lxmert_model.js';
import { LxmertModule, type Kwargs, type WeightSource } from './module.js';
import type { LxmertForPreTrainingOutput } from './outputs.js';

/** Visual head names → the output names used by the golden files. */
const VISUAL_OUTPUT_NAMES = {
  obj: 'obj_logits',
  attr: 'attr_logits',
  feat: 'feat_regression',
} as const;

export class LxmertForPreTraining extends LxmertModule {
  static readonly className: string = 'LxmertForPreTraining';
  readonly lxmert: LxmertModel;
  readonly cls: LxmertPreTrainingHeads;
  readonly objPredictHead: LxmertVisualObjHead | null;
  readonly answerHead: LxmertVisualAnswerHead | null;

  constructor(config: LxmertConfig, source: WeightSource) {
    super(config, '', source);
    this.lxmert = this.child(new LxmertModel(config, source, 'lxmert'));
    const tied = this.lxmert.embeddings.wordEmbeddings;
    this.cls = this.child(new LxmertPreTrainingHeads(config, 'cls', source, tied));
    this.objPredictHead = config.taskObjPredict
      ? this.child(new LxmertVisualObjHead(config, 'obj_predict_head', source))
      : null;
    this.answerHead = config.taskQa
      ? this.child(new LxmertVisualAnswerHead(config, 'answer_head', source))
      : null;
  }

  /**
   * Every output: LxmertModel's, `prediction_logits`, `cross_relationship_score`,
   * `question_answering_score` (task_qa), `obj_logits` / `attr_logits` / `feat_regression`
   * (task_obj_predict and the visual_*_loss flags).
   */
  forward(inputs: LxmertInputs, opts: ForwardOptions = {}): LxmertForPreTrainingOutput {
    const base = this.lxmert.forward(inputs, opts);
    return tf.tidy(() => {
      const out: LxmertOutputs = { ...base };
      const [prediction, relationship] = this.cls.forward(
        base.language_output as tf.Tensor3D,
        base.pooled_output as tf.Tensor2D,
      );
      out.prediction_logits = prediction;
      out.cross_relationship_score = relationship;
      if (this.answerHead) out.question_answering_score = this.answerHead.call(base.pooled_output);
      if (this.objPredictHead) {
        const heads = this.objPredictHead.forward(base.vision_output as tf.Tensor3D);
        for (const [k, t] of Object.entries(heads)) {
          out[VISUAL_OUTPUT_NAMES[k as keyof typeof VISUAL_OUTPUT_NAMES]] = t;
        }
      }
      return out as LxmertForPreTrainingOutput;
    });
  }

  /** The VQA path alone: encoders, pooler, answer head → [B, num_qa_labels] (needs task_qa). */
  answerScores(inputs: LxmertInputs, opts: ForwardOptions = {}): tf.Tensor2D {
    const head = this.answerHead;
    if (!head)
      throw new LxmertError(
        'this LxmertForPreTraining has no answer head (config.task_qa is false)',
      );
    return tf.tidy(() => head.call(this.lxmert.pooledOutput(inputs, opts)));
  }

  /** answerScores plus the pooled token's cross-modality attention [B, x_layers, heads, V]. */
  answerScoresWithCrossAttention(
    inputs: LxmertInputs,
    opts: ForwardOptions = {},
  ): { scores: tf.Tensor2D; crossAttention: tf.Tensor4D } {
    const head = this.answerHead;
    if (!head)
      throw new LxmertError(
        'this LxmertForPreTraining has no answer head (config.task_qa is false)',
      );
    return tf.tidy(() => {
      const r = this.lxmert.pooledOutputWithCrossAttention(inputs, opts);
      return { scores: head.call(r.pooled), crossAttention: r.crossAttention };
    });
  }

  /**
   * LxmertModel.call's inputs and kwargs → [prediction_logits, cross_relationship_score,
   * question_answering_score (task_qa)] of forward(), HF's output order.
   */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs = {}): tf.Tensor[] {
    const out = this.forward(lxmertInputs(inputs, kwargs));
    const names = ['prediction_logits', 'cross_relationship_score', 'question_answering_score'];
    const kept = names.filter((n) => n in out).map((n) => out[n]);
    tf.dispose(Object.values(out).filter((t) => !kept.includes(t)));
    return kept;
  }
}
