/** Build an LXMERT model of the right class from a config and its weights. */
import * as tf from '@tensorflow/tfjs-core';
import type { LxmertConfig } from '../config.js';
import { hostValues } from '../codec/host_values.js';
import type { RawTensor } from '../codec/raw_tensor.js';
import { WeightsError, formatShape } from '../errors.js';
import { LxmertForPreTraining } from './for_pretraining.js';
import { LxmertForQuestionAnswering } from './for_question_answering.js';
import type { ForwardOptions, LxmertInputs } from './inputs.js';
import { LxmertModel, type LxmertOutputs } from './lxmert_model.js';
import type { HostWeightData, WeightSource } from './module.js';
import type { StorageFormat } from '../../kernels/weights.js';
import {
  architectureOf,
  checkWeights,
  getWeight,
  TIED_WEIGHTS,
  tiedWeights,
  type LxmertArchitecture,
} from './weight_names.js';

export { LxmertModel, LxmertForPreTraining, LxmertForQuestionAnswering };
export type {
  LxmertOutputs,
  LxmertInputs,
  ForwardOptions,
  WeightSource,
  HostWeightData,
  LxmertArchitecture,
};
export { validateInputs, extendedMask, MASK_MIN } from './inputs.js';
export { expectedWeights, architectureOf, TIED_WEIGHTS, tiedWeights } from './weight_names.js';

/** Any of the three HF classes. */
export type AnyLxmertModel = LxmertModel | LxmertForPreTraining | LxmertForQuestionAnswering;

/** Linear-weight storage for the active backend: `preferred` on webgpu, transposed float32 elsewhere. */
export function defaultLinearFormat(preferred: 'f32' | 'f16' | 'int8' = 'f32'): StorageFormat {
  return tf.getBackend() === 'webgpu' ? preferred : 'f32-in-out';
}

/**
 * Weights by HF name from host tensors: float32, float16 and per-row int8 handed on as stored
 * (packed formats reach the GPU kernels without a float32 detour), other dtypes widened.
 */
export function weightSourceFromMap(
  weights: ReadonlyMap<string, RawTensor>,
  source = 'weights',
  linearFormat: StorageFormat = defaultLinearFormat(),
  tied: Readonly<Record<string, string>> = TIED_WEIGHTS,
): WeightSource {
  return {
    linearFormat,
    get(name, shape) {
      const raw = getWeight(weights, name, tied);
      if (!raw) throw new WeightsError(`missing tensor '${name}' ${formatShape(shape)}`, source);
      const same = raw.shape.length === shape.length && raw.shape.every((d, i) => d === shape[i]);
      if (!same) {
        throw new WeightsError(
          `tensor '${name}' is ${formatShape(raw.shape)}, the config wants ${formatShape(shape)}`,
          source,
        );
      }
      return hostValues(raw, name);
    },
  };
}

/**
 * Seeded random weights shaped like HF's init (normal(0, std) matrices, zero biases, unit
 * LayerNorm gains), made on the host: for benchmarks at full size without a 1 GB file.
 */
export function randomWeightSource(
  seed = 0,
  std = 0.02,
  linearFormat: StorageFormat = defaultLinearFormat(),
): WeightSource {
  let state = (seed * 0x9e3779b9 + 0x6d2b79f5) >>> 0 || 1;
  const uniform = () => {
    // xorshift32: fast and deterministic; quality is ample for benchmark weights
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return (state + 0.5) / 4294967296;
  };
  return {
    linearFormat,
    get(name, shape) {
      const n = shape.reduce((a, b) => a * b, 1);
      const out = new Float32Array(n);
      if (/(LayerNorm|layer_norm|logit_fc\.2)\.weight$/.test(name)) return out.fill(1);
      if (name.endsWith('bias')) return out;
      for (let i = 0; i < n; i += 2) {
        const r = Math.sqrt(-2 * Math.log(uniform())) * std;
        const t = 2 * Math.PI * uniform();
        out[i] = r * Math.cos(t);
        if (i + 1 < n) out[i + 1] = r * Math.sin(t);
      }
      return out;
    },
  };
}

export interface BuildOptions {
  /** Name of the weights' origin, for messages. */
  source?: string;
  /**
   * Storage of Linear weights on WebGPU: 'f16' and 'int8' stay packed on the GPU (dequantized
   * inside the kernels). Ignored on wasm/cpu, which use transposed float32. Default 'f32'.
   */
  weightFormat?: 'f32' | 'f16' | 'int8';
}

/**
 * Build the class named by `arch` (default: config.architectures). With a weight map, every
 * tensor is checked first and one WeightsError lists all that are missing or mis-shaped.
 */
export function buildModel(
  config: LxmertConfig,
  weights: ReadonlyMap<string, RawTensor> | WeightSource,
  arch: LxmertArchitecture = architectureOf(config),
  options: BuildOptions | string = {},
): AnyLxmertModel {
  const opts = typeof options === 'string' ? { source: options } : options;
  const source = opts.source ?? 'weights';
  let ws: WeightSource;
  if ('linearFormat' in weights) {
    ws = weights;
  } else {
    checkWeights(config, arch, weights, source);
    ws = weightSourceFromMap(
      weights,
      source,
      defaultLinearFormat(opts.weightFormat),
      tiedWeights(config),
    );
  }
  const construct = (): AnyLxmertModel => {
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
