/** Build an LXMERT model of the right class from a config and its weights. */
import * as tf from '@tensorflow/tfjs-core';
import type { LxmertConfig } from '../config.js';
import { WeightsError, formatShape } from '../errors.js';
import { toFloat32, type RawTensor } from '../weights/raw_tensor.js';
import { checkWeights, getWeight } from '../weights/validate.js';
import { LxmertForPreTraining } from './for_pretraining.js';
import { LxmertForQuestionAnswering } from './for_question_answering.js';
import type { ForwardOptions, LxmertInputs } from './inputs.js';
import { LxmertModel, type LxmertOutputs } from './lxmert_model.js';
import type { WeightSource } from './module.js';
import { architectureOf, type LxmertArchitecture } from './weight_names.js';

export { LxmertModel, LxmertForPreTraining, LxmertForQuestionAnswering };
export type { LxmertOutputs, LxmertInputs, ForwardOptions, WeightSource, LxmertArchitecture };
export { validateInputs, extendedMask, MASK_MIN } from './inputs.js';
export { expectedWeights, architectureOf, TIED_WEIGHTS } from './weight_names.js';

/** Any of the three HF classes. */
export type AnyLxmertModel = LxmertModel | LxmertForPreTraining | LxmertForQuestionAnswering;

/** Weights by HF name from host tensors (any float dtype; converted to float32). */
export function weightSourceFromMap(
  weights: ReadonlyMap<string, RawTensor>,
  source = 'weights',
): WeightSource {
  return (name, shape) => {
    const raw = getWeight(weights, name);
    if (!raw) throw new WeightsError(`missing tensor '${name}' ${formatShape(shape)}`, source);
    const same = raw.shape.length === shape.length && raw.shape.every((d, i) => d === shape[i]);
    if (!same) {
      throw new WeightsError(
        `tensor '${name}' is ${formatShape(raw.shape)}, the config wants ${formatShape(shape)}`,
        source,
      );
    }
    return tf.tensor(toFloat32(raw, name), shape, 'float32');
  };
}

/**
 * Seeded random weights shaped like HF's init (normal(0, std) matrices, zero biases, unit
 * LayerNorm gains): for benchmarks at full size without a 1 GB file.
 */
export function randomWeightSource(seed = 0, std = 0.02): WeightSource {
  let n = seed;
  return (name, shape) => {
    const isNormGain = /(LayerNorm|layer_norm|logit_fc\.2)\.weight$/.test(name);
    if (isNormGain) return tf.ones(shape);
    if (name.endsWith('.bias') || name.endsWith('predictions.bias')) return tf.zeros(shape);
    return tf.randomNormal(shape, 0, std, 'float32', n++);
  };
}

/**
 * Build the class named by `arch` (default: config.architectures). With a weight map, every
 * tensor is checked first and one WeightsError lists all that are missing or mis-shaped.
 */
export function buildModel(
  config: LxmertConfig,
  weights: ReadonlyMap<string, RawTensor> | WeightSource,
  arch: LxmertArchitecture = architectureOf(config),
  source = 'weights',
): AnyLxmertModel {
  let ws: WeightSource;
  if (typeof weights === 'function') {
    ws = weights;
  } else {
    checkWeights(config, arch, weights, source);
    ws = weightSourceFromMap(weights, source);
  }
  switch (arch) {
    case 'LxmertForPreTraining':
      return new LxmertForPreTraining(config, ws);
    case 'LxmertForQuestionAnswering':
      return new LxmertForQuestionAnswering(config, ws);
    case 'LxmertModel':
      return new LxmertModel(config, ws);
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
