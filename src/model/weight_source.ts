/**
 * Weight sources: where a model's layers get their parameters by HF name (a host tensor map, or
 * seeded random values for benchmarks), and the Linear-weight storage for the active backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StorageFormat } from '../../kernels/weights.js';
import { registerKernelFlags, WASM_GEMM_FLAG } from '../../kernels/flags.js';
import { fusedKernelsEnabled } from '../../kernels/ops.js';
import { gemmEngine } from '../../kernels/wasm/gemm.js';
import { hostFloat32, hostValues } from '../codec/host_values.js';
import type { RawTensor } from '../codec/raw_tensor.js';
import { WeightsError, formatShape } from '../errors.js';
import type { WeightSource } from './module.js';
import { getWeight, TIED_WEIGHTS } from './weight_names.js';

/**
 * Linear-weight storage for the active backend: `preferred` on webgpu; on wasm (fused kernels
 * on, WASM SIMD present, LXMERT_WASM_GEMM) packed for the WASM GEMM kernel; else transposed
 * float32 tensors.
 */
export function defaultLinearFormat(preferred: 'f32' | 'f16' | 'int8' = 'f32'): StorageFormat {
  const backend = tf.getBackend();
  if (backend === 'webgpu') return preferred;
  registerKernelFlags();
  const gemm =
    backend === 'wasm' &&
    fusedKernelsEnabled() &&
    tf.env().getBool(WASM_GEMM_FLAG) &&
    gemmEngine() !== null;
  return gemm ? 'wasm-gemm' : 'f32-in-out';
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

/** A WeightSource that takes weights as they stream in (see preparedWeightSource). */
export interface PreparedWeightSource extends WeightSource {
  /** One weight, the moment its bytes have arrived and been verified. */
  add(name: string, raw: RawTensor): void;
}

/**
 * Weights made ready for the layers while a model streams in, so that buildModel after the
 * last byte skips the host conversions. On wasm and cpu, whose layers read float32, each
 * float16/int8 weight is widened once as it arrives (`add`); the WebGPU formats 'f16' and
 * 'int8' keep them packed as stored, which needs nothing ahead. A tied name is read from its
 * twin. Weights are checked against the shapes the layers ask for, as weightSourceFromMap does.
 */
export function preparedWeightSource(
  source = 'weights',
  linearFormat: StorageFormat = defaultLinearFormat(),
  tied: Readonly<Record<string, string>> = TIED_WEIGHTS,
): PreparedWeightSource {
  const raws = new Map<string, RawTensor>();
  const fallback = weightSourceFromMap(raws, source, linearFormat, tied);
  const widen = linearFormat !== 'f16' && linearFormat !== 'int8';
  const ready = new Map<string, { shape: number[]; values: Float32Array }>();
  return {
    linearFormat,
    add(name, raw) {
      if (widen && raw.dtype !== 'F32') {
        // The widened copy replaces the stored one (host memory: float32 once, not both).
        ready.set(name, { shape: raw.shape, values: hostFloat32(hostValues(raw, name)) });
      } else raws.set(name, raw);
    },
    get(name, shape) {
      const r = ready.get(name) ?? (tied[name] ? ready.get(tied[name]) : undefined);
      if (!r) return fallback.get(name, shape);
      const same = r.shape.length === shape.length && r.shape.every((d, i) => d === shape[i]);
      if (!same) {
        throw new WeightsError(
          `tensor '${name}' is ${formatShape(r.shape)}, the config wants ${formatShape(shape)}`,
          source,
        );
      }
      return r.values;
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
