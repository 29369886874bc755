/** Build an LXMERT model of the right class from a config and its weights. */
import * as tf from '@tensorflow/tfjs-core';
import type { RawTensor } from '../codec/raw_tensor.js';
import type { LxmertConfig } from '../config.js';
import { LxmertForPreTraining } from './for_pretraining.js';
import { LxmertForQuestionAnswering } from './for_question_answering.js';
import type { LxmertInputs } from './inputs.js';
import { LxmertModel, type LxmertOutputs } from './lxmert_model.js';
import type { WeightSource } from './module.js';
import { TFLxmertForPreTraining, TFLxmertModel, tfArchitectureOf } from './tf_classes.js';
import {
  architectureOf,
  checkWeights,
  TF_ARCHITECTURES,
  tiedWeights,
  type LxmertArchitecture,
} from './weight_names.js';
import { defaultLinearFormat, weightSourceFromMap } from './weight_source.js';

/** Any of the three HF classes. */
export type AnyLxmertModel = LxmertModel | LxmertForPreTraining | LxmertForQuestionAnswering;

export interface BuildOptions {
  /** The HF class to build. Default: the first LXMERT class in config.architectures. */
  architecture?: LxmertArchitecture;
  /** Name of the weights' origin, for messages. Default 'weights'. */
  source?: string;
  /**
   * Storage of Linear weights on WebGPU: 'f16' and 'int8' stay packed on the GPU (dequantized
   * inside the kernels). Ignored on wasm/cpu, which use transposed float32. Default 'f32'.
   */
  weightFormat?: 'f32' | 'f16' | 'int8';
}

/**
 * Build an LXMERT model of the class `options.architecture` names (default: the config's). With
 * a weight map, every tensor is checked first and one WeightsError lists all that are missing or
 * mis-shaped.
 */
export function buildModel(
  config: LxmertConfig,
  weights: ReadonlyMap<string, RawTensor> | WeightSource,
  options: BuildOptions = {},
): AnyLxmertModel {
  const arch = options.architecture ?? architectureOf(config);
  const source = options.source ?? 'weights';
  let ws: WeightSource;
  if ('linearFormat' in weights) {
    ws = weights;
  } else {
    checkWeights(config, arch, weights, source);
    ws = weightSourceFromMap(
      weights,
      source,
      defaultLinearFormat(options.weightFormat),
      tiedWeights(config),
    );
  }
  const tfClass = tfArchitectureOf(config);
  const construct = (): AnyLxmertModel => {
    if (tfClass && TF_ARCHITECTURES[tfClass] === arch) {
      // config.json names HF's TF class (a TF checkpoint's does): the same model under that name
      return tfClass === 'TFLxmertModel'
        ? new TFLxmertModel(config, ws)
        : new TFLxmertForPreTraining(config, ws);
    }
    switch (arch) {
      case 'LxmertForPreTraining':
        return new LxmertForPreTraining(config, ws);
      case 'LxmertForQuestionAnswering':
        return new LxmertForQuestionAnswering(config, ws);
      case 'LxmertModel':
        return new LxmertModel(config, ws);
    }
  };
  // Built in a tf scope: if a weight turns out missing or malformed half-way, every tensor made
  // so far is freed with the scope; on success the model's own tensors are kept.
  tf.engine().startScope();
  try {
    const model = construct();
    for (const t of model.deviceTensors()) tf.keep(t);
    return model;
  } finally {
    tf.engine().endScope();
  }
}

/** Every output the model has (what `lxmert infer` writes). */
export function forwardAll(model: AnyLxmertModel, inputs: LxmertInputs): LxmertOutputs {
  return model.forward(inputs, {
    outputHiddenStates: true,
    outputAttentions: true,
    outputEmbeddings: true,
  });
}
