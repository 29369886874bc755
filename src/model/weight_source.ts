/**
 * Weight sources: where a model's layers get their parameters by HF name (a host tensor map, or
 * seeded random values for benchmarks), and the Linear-weight storage for the active backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LinearWeights } from '../../kernels/types.js';
import {
  disposeLinearWeights,
  makeLinearWeights,
  type StorageFormat,
} from '../../kernels/weights.js';
import { registerKernelFlags, WASM_GEMM_FLAG } from '../../kernels/flags.js';
import { fusedKernelsEnabled } from '../../kernels/ops.js';
import { gemmEngine } from '../../kernels/wasm/gemm.js';
import { concatRows, hostFloat32, hostValues, type HostValues } from '../codec/host_values.js';
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
  /** Free what was made ahead and not taken by buildModel (call after it, or on failure). */
  release(): void;
}

/** Names the layers read with `weight()`: LayerNorm parameters and embedding tables. */
const TENSOR_NAME = /(LayerNorm|layer_norm)\.(weight|bias)$|_embeddings\.weight$/;
/** Linears a layer concatenates (attention.ts: query, key and value as one [3H, H]). */
const CONCATENATED = /\.(query|key|value)$/;

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Weights made ready for the layers while a model streams in (`add` as each arrives), so that
 * buildModel after the last byte mostly wires what exists. Each float16/int8 weight is widened
 * once on wasm and cpu, whose layers read float32, except a Linear's weight that the WASM GEMM
 * stores packed (float16 stays float16 there, int8 stays int8 with its row scales) and the WebGPU formats 'f16'/'int8' (packed as
 * stored). Device weights are made as soon as their bytes are in: each Linear's
 * (`<p>.weight` + `<p>.bias`; GEMM-packed, transposed or packed for the WebGPU kernels; the
 * attention's query, key and value as one, as the layer concatenates them) and the float32
 * tensors of LayerNorms and embedding tables; the layers take each once (`takeLinear`,
 * `takeTensor`). Anything else a layer asks for (a tied twin, a grouping made elsewhere) comes
 * from the host values, checked as weightSourceFromMap checks them. Needs the backend running;
 * `release()` after the build frees what was not taken.
 */
export function preparedWeightSource(
  source = 'weights',
  linearFormat: StorageFormat = defaultLinearFormat(),
  tied: Readonly<Record<string, string>> = TIED_WEIGHTS,
): PreparedWeightSource {
  const raws = new Map<string, RawTensor>();
  const fallback = weightSourceFromMap(raws, source, linearFormat, tied);
  // wasm/cpu layers read float32 tensors; the WebGPU formats keep float16/int8 packed.
  const float32Tensors = linearFormat !== 'f16' && linearFormat !== 'int8';
  // Host values widened once at arrival, except where the Linear's storage keeps them packed
  // (the WebGPU formats, and the WASM GEMM, which holds float16 and int8 as stored).
  const widen = float32Tensors && linearFormat !== 'wasm-gemm';
  const host = new Map<string, { shape: number[]; values: HostValues }>();
  const linears = new Map<string, { shape: [number, number]; lw: LinearWeights }>();
  const tensors = new Map<string, tf.Tensor>();
  const ahead = (name: string) => {
    const h = host.get(name)!;
    if (TENSOR_NAME.test(name) && (float32Tensors || h.shape.length === 1)) {
      tensors.set(name, tf.tensor(hostFloat32(h.values), h.shape, 'float32'));
      return;
    }
    const prefix = name.replace(/\.(weight|bias)$/, '');
    if (prefix === name) return;
    // The attention's query, key and value become one Linear once all three are in.
    const group = CONCATENATED.test(prefix)
      ? ['query', 'key', 'value'].map((p) => prefix.replace(CONCATENATED, `.${p}`))
      : [prefix];
    const parts = group.map((p) => [host.get(`${p}.weight`), host.get(`${p}.bias`)] as const);
    let out = 0;
    for (const [w, b] of parts) {
      if (!w || !b || w.shape.length !== 2 || !sameShape(b.shape, [w.shape[0]])) return;
      if (w.shape[1] !== parts[0][0]!.shape[1]) return;
      out += w.shape[0];
    }
    const shape: [number, number] = [out, parts[0][0]!.shape[1]];
    const lw = makeLinearWeights(
      {
        shape,
        weight: concatRows(parts.map(([w]) => w!.values)), // float16/int8 stay packed
        bias: hostFloat32(concatRows(parts.map(([, b]) => b!.values))),
      },
      linearFormat,
    );
    linears.set(group.join('|'), { shape, lw });
  };
  return {
    linearFormat,
    add(name, raw) {
      raws.set(name, raw);
      const values =
        widen && raw.dtype !== 'F32' ? hostFloat32(hostValues(raw, name)) : hostValues(raw, name);
      host.set(name, { shape: raw.shape, values });
      ahead(name);
    },
    get(name, shape) {
      const h = host.get(name) ?? (tied[name] ? host.get(tied[name]) : undefined);
      if (!h) return fallback.get(name, shape);
      if (!sameShape(h.shape, shape)) {
        throw new WeightsError(
          `tensor '${name}' is ${formatShape(h.shape)}, the config wants ${formatShape(shape)}`,
          source,
        );
      }
      return h.values;
    },
    takeLinear(prefixes, shape) {
      const key = prefixes.join('|');
      const l = linears.get(key);
      if (!l || !sameShape(l.shape, shape)) return undefined;
      linears.delete(key);
      return l.lw;
    },
    takeTensor(name, shape) {
      const t = tensors.get(name);
      if (!t || !sameShape(t.shape, shape)) return undefined;
      tensors.delete(name);
      return t;
    },
    release() {
      for (const { lw } of linears.values()) disposeLinearWeights(lw);
      tf.dispose([...tensors.values()]);
      linears.clear();
      tensors.clear();
      host.clear();
      raws.clear();
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
