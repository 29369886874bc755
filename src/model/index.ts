/** LXMERT's public model API: the three HF classes, their builder, inputs and weight inventory. */
export { LxmertModel, type LxmertOutputs } from './lxmert_model.js';
export { LxmertForPreTraining } from './for_pretraining.js';
export { LxmertForQuestionAnswering } from './for_question_answering.js';
export {
  TFLxmertModel,
  TFLxmertForPreTraining,
  TF_ARCHITECTURES,
  tfArchitectureOf,
  type TfLxmertArchitecture,
} from './tf_classes.js';
export { TUPLE_OUTPUTS, tupleOutput } from './outputs.js';
export type {
  LxmertModelOutput,
  LxmertForPreTrainingOutput,
  LxmertForQuestionAnsweringOutput,
  TFLxmertModelOutput,
  TFLxmertForPreTrainingOutput,
  TupleOutputName,
} from './outputs.js';
export { buildModel, forwardAll, type AnyLxmertModel, type BuildOptions } from './build.js';
export { defaultLinearFormat, weightSourceFromMap, randomWeightSource } from './weight_source.js';
export type { WeightSource, HostWeightData } from './module.js';
export { validateInputs, extendedMask, MASK_MIN } from './inputs.js';
export type { LxmertInputs, ForwardOptions } from './inputs.js';
export {
  expectedWeights,
  architectureOf,
  TIED_WEIGHTS,
  tiedWeights,
  type LxmertArchitecture,
} from './weight_names.js';
