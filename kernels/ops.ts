/**
 * The fused ops the model is written against. Each op runs the registered kernel of the active
 * backend (WGSL on webgpu, tf-op compositions on wasm/cpu, see register.ts) while fused kernels
 * are on, else its tf-op fallback (kernels/fallback/) directly: the stock tf.js path that
 * `lxmert bench --no-fused` measures and the oracle in tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import { attentionFallback } from './fallback/attention.js';
import { denseFallback } from './fallback/dense.js';
import { columns } from './fallback/kernels.js';
import { addLayerNormFallback } from './fallback/layer_norm.js';
import {
  LXMERT_ADD_LAYER_NORM,
  LXMERT_ATTENTION,
  LXMERT_DENSE,
  type AttentionAttrs,
  type DenseAttrs,
} from './names.js';
import { linearShape, weightFormat } from './weights.js';
import type {
  Activation,
  AttentionResult,
  LinearWeights,
  PackedProjection,
  ProjectionInput,
} from './types.js';

/** tf.env() flag: use the registered fused kernels (default true). */
export const FUSED_KERNELS_FLAG = 'LXMERT_FUSED_KERNELS';

function ensureFlag(): void {
  try {
    tf.env().get(FUSED_KERNELS_FLAG);
  } catch {
    tf.env().registerFlag(FUSED_KERNELS_FLAG, () => true);
  }
}

/** Turn the fused kernels on or off (off: stock tf.js ops, as `--no-fused`). */
export function setFusedKernels(enabled: boolean): void {
  ensureFlag();
  tf.env().set(FUSED_KERNELS_FLAG, enabled);
}

export function fusedKernelsEnabled(): boolean {
  ensureFlag();
  return tf.env().getBool(FUSED_KERNELS_FLAG);
}

function useKernel(name: string): boolean {
  return fusedKernelsEnabled() && tf.getKernel(name, tf.getBackend()) != null;
}

function asPacked(p: ProjectionInput): PackedProjection {
  return p instanceof tf.Tensor ? { packed: p, offset: 0, width: p.shape[2] } : p;
}

/**
 * The `count` equal column ranges of a [B, L, count·H] projection, e.g. q, k, v of a fused QKV
 * dense (see fuseLinearWeights), to pass to attention without slicing.
 */
export function splitProjections(packed: tf.Tensor3D, count: number): PackedProjection[] {
  const width = packed.shape[2] / count;
  return Array.from({ length: count }, (_, i) => ({ packed, offset: i * width, width }));
}

/**
 * Multi-head attention on projected q/k/v ([B, L, H] each, or column ranges of wider tensors)
 * with an additive key mask [B, Lk] (0 keep, finfo(float32).min drop) or null.
 */
export function attention(
  q: ProjectionInput,
  k: ProjectionInput,
  v: ProjectionInput,
  mask: tf.Tensor2D | null,
  numHeads: number,
  returnProbs = false,
): AttentionResult {
  const [qp, kp, vp] = [asPacked(q), asPacked(k), asPacked(v)];
  if (useKernel(LXMERT_ATTENTION)) {
    const attrs: AttentionAttrs = {
      numHeads,
      hidden: qp.width,
      qOffset: qp.offset,
      kOffset: kp.offset,
      vOffset: vp.offset,
      returnProbs,
    };
    const inputs: tf.NamedTensorMap = { q: qp.packed, k: kp.packed, v: vp.packed };
    if (mask) inputs.mask = mask;
    const out = tf.engine().runKernel(LXMERT_ATTENTION, inputs, attrs) as tf.Tensor | tf.Tensor[];
    const [context, probs] = Array.isArray(out) ? out : [out];
    return returnProbs
      ? { context: context as tf.Tensor3D, probs: probs as tf.Tensor4D }
      : { context: context as tf.Tensor3D };
  }
  const r = tf.tidy(() => {
    const { context, probs } = attentionFallback(
      columns(qp.packed, qp.offset, qp.width),
      columns(kp.packed, kp.offset, qp.width),
      columns(vp.packed, vp.offset, qp.width),
      mask,
      numHeads,
      returnProbs,
    );
    return probs ? [context, probs] : [context];
  });
  return r.length > 1
    ? { context: r[0] as tf.Tensor3D, probs: r[1] as tf.Tensor4D }
    : { context: r[0] as tf.Tensor3D };
}

/** act(x · Wᵀ + b) for x [..., in], any weight format. */
export function dense(x: tf.Tensor, w: LinearWeights, act: Activation = 'linear'): tf.Tensor {
  const format = weightFormat(w);
  // On wasm/cpu the packed formats go through their cached float32 copy (fallback path).
  if (useKernel(LXMERT_DENSE) && (format === 'f32' || tf.getBackend() === 'webgpu')) {
    const attrs: DenseAttrs = { activation: act, format, inFeatures: linearShape(w)[1] };
    const inputs: tf.NamedTensorMap =
      w.format === 'f16' || w.format === 'int8'
        ? { x, weight: w.packed, bias: w.bias }
        : { x, weight: w.weight, bias: w.bias };
    if (w.format === 'int8') inputs.scales = w.scales;
    return tf.engine().runKernel(LXMERT_DENSE, inputs, attrs) as tf.Tensor;
  }
  return denseFallback(x, w, act);
}

/** LayerNorm(x + residual) over the last axis (residual may be null). */
export function addLayerNorm(
  x: tf.Tensor,
  residual: tf.Tensor | null,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps = 1e-12,
): tf.Tensor {
  if (useKernel(LXMERT_ADD_LAYER_NORM)) {
    const inputs: tf.NamedTensorMap = { x, gamma, beta };
    if (residual) inputs.residual = residual;
    return tf.engine().runKernel(LXMERT_ADD_LAYER_NORM, inputs, { eps }) as tf.Tensor;
  }
  return addLayerNormFallback(x, residual, gamma, beta, eps);
}
