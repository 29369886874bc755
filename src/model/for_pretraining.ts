/**
 * LxmertForPreTraining: LxmertModel + masked-LM head (decoder tied to the word embeddings),
 * cross-modality matching, visual object/attribute/feature heads and the QA head.
 * Original source: transformers/models/lxmert/modeling_lxmert.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LxmertConfig } from '../config.js';
import { LxmertError } from '../errors.js';
import {
  LxmertLinear,
  LxmertLMPredictionHead,
  LxmertVisualAnswerHead,
  LxmertVisualObjHead,
} from './heads.js';
import type { ForwardOptions, LxmertInputs } from './inputs.js';
import { LxmertModel, type LxmertOutputs } from './lxmert_model.js';
import { LxmertModule, type WeightSource } from './module.js';

/** Visual head names → the output names used by the golden files. */
const VISUAL_OUTPUT_NAMES = {
  obj: 'obj_logits',
  attr: 'attr_logits',
  feat: 'feat_regression',
} as const;

export class LxmertForPreTraining extends LxmertModule {
  static readonly className: string = 'LxmertForPreTraining';
  readonly lxmert: LxmertModel;
  /** `cls.predictions` */
  readonly predictions: LxmertLMPredictionHead;
  /** `cls.seq_relationship` */
  readonly seqRelationship: LxmertLinear;
  readonly objPredictHead: LxmertVisualObjHead | null;
  readonly answerHead: LxmertVisualAnswerHead | null;

  constructor(
    readonly config: LxmertConfig,
    source: WeightSource,
  ) {
    super('', source);
    this.lxmert = this.child(new LxmertModel(config, source, 'lxmert'));
    const tied = this.lxmert.embeddings.wordEmbeddings;
    this.predictions = this.child(
      new LxmertLMPredictionHead(config, 'cls.predictions', source, tied),
    );
    this.seqRelationship = this.child(
      new LxmertLinear(config.hiddenSize, 2, 'cls.seq_relationship', source),
    );
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
  forward(inputs: LxmertInputs, opts: ForwardOptions = {}): LxmertOutputs {
    const base = this.lxmert.forward(inputs, opts);
    return tf.tidy(() => {
      const out: LxmertOutputs = { ...base };
      out.prediction_logits = this.predictions.call(base.language_output);
      out.cross_relationship_score = this.seqRelationship.call(base.pooled_output);
      if (this.answerHead) out.question_answering_score = this.answerHead.call(base.pooled_output);
      if (this.objPredictHead) {
        const heads = this.objPredictHead.heads(base.vision_output as tf.Tensor3D);
        for (const [k, t] of Object.entries(heads)) {
          out[VISUAL_OUTPUT_NAMES[k as keyof typeof VISUAL_OUTPUT_NAMES]] = t;
        }
      }
      return out;
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

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    return this.lxmert.call(inputs);
  }
}
