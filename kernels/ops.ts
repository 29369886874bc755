/**
 * The fused ops the model is written against. Each op runs the registered kernel of the active
 * backend (WGSL on webgpu, tf-op compositions on wasm/cpu, see register.ts) while fused kernels
 * are on, else its tf-op fallback (kernels/fallback/) directly: the stock tf.js path that
 * `lxmert bench --no-fused` measures and the oracle in tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../src/errors.js';
import { attentionFallback } from './fallback/attention.js';
import { denseFallback } from './fallback/dense.js';
import { columns } from './fallback/kernels.js';
import { addLayerNormFallback } from './fallback/add_layer_norm.js';
import {
  LXMERT_ADD_LAYER_NORM,
  LXMERT_ATTENTION,
  LXMERT_DENSE,
  LXMERT_DENSE_ADD_LAYER_NORM,
  LXMERT_GATHER_ROWS,
  LXMERT_GROUPED_ATTENTION,
  LXMERT_ROI_POOL,
  type AttentionAttrs,
  type DenseAddLayerNormAttrs,
  type GatherRowsAttrs,
  type DenseAttrs,
  type GroupedAttentionAttrs,
  type GroupedDenseAttrs,
  type RoiPoolAttrs,
  type WeightFormat,
} from './names.js';
import { DENSE_ADD_LAYER_NORM_MAX_N } from './dense_add_layer_norm_webgpu.js';
import { splitRows, type AttentionGroup } from './fallback/grouped.js';
import {
  FUSED_KERNELS_FLAG,
  GROUPED_KERNELS_FLAG,
  MAX_BINDING_BYTES_FLAG,
  WASM_GEMM_FLAG,
} from './flags.js';
import { registerLxmertKernels } from './register.js';
import { kernelLog } from './runtime/log.js';
import { gemmAttention, gemmAttentionFits } from './wasm/attention.js';
import { gemmAddLayerNormFits, gemmDense, gemmDenseAddLayerNorm } from './wasm/dense.js';
import { gemmEngine } from './wasm/gemm.js';
import { dequantizedWeight, linearShape } from './weights.js';
import type {
  Activation,
  AttentionResult,
  LinearWeights,
  NormedLinear,
  PackedProjection,
  ProjectionInput,
} from './types.js';

export type { AttentionGroup } from './fallback/grouped.js';

export {
  FUSED_KERNELS_FLAG,
  GROUPED_KERNELS_FLAG,
  MAX_BINDING_BYTES_FLAG,
  DENSE_VARIANT_FLAG,
} from './flags.js';

/** Turn the fused kernels on or off (off: stock tf.js ops, as `--no-fused`). */
export function setFusedKernels(enabled: boolean): void {
  registerLxmertKernels();
  tf.env().set(FUSED_KERNELS_FLAG, enabled);
}

export function fusedKernelsEnabled(): boolean {
  registerLxmertKernels();
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
 * dense (src/model/module.ts linearConcat), to pass to attention without slicing.
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
  // wasm: the GEMM kernel's attention when no probabilities are asked for (the VQA path).
  if (!returnProbs && fusedKernelsEnabled() && tf.getBackend() === 'wasm' && gemmEngine()) {
    if (tf.env().getBool(WASM_GEMM_FLAG) && gemmAttentionFits(qp.width, numHeads))
      return { context: gemmAttention(qp, kp, vp, mask, numHeads) };
  }
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

/** Largest storage binding the active webgpu device takes (Infinity elsewhere). */
function bindingLimit(): number {
  registerLxmertKernels();
  const forced = tf.env().getNumber(MAX_BINDING_BYTES_FLAG);
  if (forced > 0) return forced;
  const device = (tf.backend() as { device?: GPUDevice }).device;
  return device?.limits.maxStorageBufferBindingSize ?? Infinity;
}

/** act(x · Wᵀ + b) for x [..., in], any weight format. */
export function dense(x: tf.Tensor, w: LinearWeights, act: Activation = 'linear'): tf.Tensor {
  // The transposed tf-op layout has no kernel: it is the wasm/cpu path itself.
  if (w.format === 'f32-in-out') return denseFallback(x, w, act);
  // Packed for the WASM GEMM kernel: that kernel is the only copy of the weights.
  if (w.format === 'wasm-gemm') return gemmDense(x, w, act);
  const format = w.format ?? 'f32';
  // On wasm/cpu the packed formats go through their cached float32 copy (fallback path).
  if (useKernel(LXMERT_DENSE) && (format === 'f32' || tf.getBackend() === 'webgpu')) {
    const stored = w.format === 'f16' || w.format === 'int8' ? w.packed : w.weight;
    const limit = tf.getBackend() === 'webgpu' ? bindingLimit() : Infinity;
    if (stored.size * 4 > limit) return denseSplit(x, w, act, stored, limit);
    const attrs: DenseAttrs = { activation: act, format, inFeatures: linearShape(w)[1] };
    const inputs: tf.NamedTensorMap = { x, weight: stored, bias: w.bias };
    if (w.format === 'int8') inputs.scales = w.scales;
    return tf.engine().runKernel(LXMERT_DENSE, inputs, attrs) as tf.Tensor;
  }
  return denseFallback(x, w, act);
}

/**
 * A weight over the device's storage binding limit: run the kernel on row blocks of the weight
 * (output column blocks) that fit, and concatenate (same answer, a few more dispatches).
 */
function denseSplit(
  x: tf.Tensor,
  w: Exclude<LinearWeights, { format: 'wasm-gemm' }>,
  act: Activation,
  stored: tf.Tensor2D,
  limit: number,
): tf.Tensor {
  const [out, inF] = linearShape(w);
  const rowsPerBlock = Math.max(1, Math.floor(limit / (stored.shape[1] * 4)));
  kernelLog(
    `dense weight [${out}, ${inF}] (${stored.size * 4} bytes) exceeds the storage binding ` +
      `limit (${limit} bytes): running it in ${Math.ceil(out / rowsPerBlock)} blocks`,
  );
  return tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    for (let n0 = 0; n0 < out; n0 += rowsPerBlock) {
      const n = Math.min(rowsPerBlock, out - n0);
      const rows = tf.slice(stored, [n0, 0], [n, -1]);
      const bias = tf.slice(w.bias, [n0], [n]);
      const block: LinearWeights =
        w.format === 'f16'
          ? { format: 'f16', packed: rows, inFeatures: inF, bias }
          : w.format === 'int8'
            ? {
                format: 'int8',
                packed: rows,
                scales: tf.slice(w.scales, [n0], [n]),
                inFeatures: inF,
                bias,
              }
            : { weight: rows, bias };
      parts.push(dense(x, block, act));
    }
    return tf.concat(parts, -1);
  });
}

/** A LinearWeights whose weight is a tf tensor the WebGPU kernels read in place. */
type TensorLinear = Extract<LinearWeights, { format?: 'f32' | 'f16' | 'int8' }>;

function tensorLinear(w: LinearWeights): TensorLinear | null {
  return w.format === 'f32-in-out' || w.format === 'wasm-gemm' ? null : w;
}

function storedWeight(w: TensorLinear): tf.Tensor2D {
  return w.format === 'f16' || w.format === 'int8' ? w.packed : w.weight;
}

/**
 * The weight sets of one grouped WebGPU dispatch, when they can share one: tensor formats, all
 * the same, each within the device's storage binding limit. Null: run the groups one by one.
 */
function sameFormatOnGpu(ws: readonly LinearWeights[]): TensorLinear[] | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const sets = ws.map(tensorLinear);
  if (sets.some((w) => w === null)) return null;
  const format = (w: TensorLinear): WeightFormat => w.format ?? 'f32';
  const all = sets as TensorLinear[];
  if (all.some((w) => format(w) !== format(all[0]))) return null;
  const limit = bindingLimit();
  return all.every((w) => storedWeight(w).size * 4 <= limit) ? all : null;
}

/**
 * Whether the grouped WebGPU kernels run (webgpu with the fused kernels on): the model then keeps
 * a cross-modality layer's two streams as stacked rows of one tensor (src/model/x_layer.ts).
 */
export function groupedKernelsActive(): boolean {
  return (
    tf.getBackend() === 'webgpu' &&
    useKernel(LXMERT_DENSE) &&
    useKernel(LXMERT_DENSE_ADD_LAYER_NORM) &&
    useKernel(LXMERT_GROUPED_ATTENTION) &&
    tf.env().getBool(GROUPED_KERNELS_FLAG) // registered by useKernel's registerLxmertKernels
  );
}

/**
 * act(x · Wᵀ + b) with two Linear layers of the same shape: rows [0, split) of x [..., in]
 * through ws[0], the rest through ws[1] (two streams' layers over their stacked rows). One
 * dispatch on webgpu; elsewhere each group through dense().
 */
export function groupedDense(
  x: tf.Tensor,
  ws: readonly [LinearWeights, LinearWeights],
  split: number,
  act: Activation = 'linear',
): tf.Tensor {
  const sets = useKernel(LXMERT_DENSE) ? sameFormatOnGpu(ws) : null;
  if (sets) {
    const [a, b] = sets;
    const format = a.format ?? 'f32';
    const attrs: GroupedDenseAttrs = {
      activation: act,
      format,
      inFeatures: linearShape(a)[1],
      split,
    };
    const inputs: tf.NamedTensorMap = {
      x,
      weight: storedWeight(a),
      bias: a.bias,
      weight1: storedWeight(b),
      bias1: b.bias,
    };
    if (a.format === 'int8' && b.format === 'int8') {
      inputs.scales = a.scales;
      inputs.scales1 = b.scales;
    }
    return tf.engine().runKernel(LXMERT_DENSE, inputs, attrs) as tf.Tensor;
  }
  return tf.tidy(() => {
    const [x0, x1] = splitRows(x, split);
    const y = tf.concat([dense(x0, ws[0], act), dense(x1, ws[1], act)], 0) as tf.Tensor2D;
    return tf.reshape(y, [...x.shape.slice(0, -1), y.shape[1]]);
  });
}

/**
 * LayerNorm(x · Wᵀ + b + residual) (HF's attention / FFN output blocks); with two weight sets,
 * rows [0, split) use sets[0] and the rest sets[1]. One dispatch on webgpu (output width up to
 * 2048); elsewhere dense() then addLayerNorm() per group.
 */
export function denseAddLayerNorm(
  x: tf.Tensor,
  residual: tf.Tensor,
  sets: readonly NormedLinear[],
  split: number,
  eps = 1e-12,
): tf.Tensor {
  const fused = useKernel(LXMERT_DENSE_ADD_LAYER_NORM) && tf.env().getBool(GROUPED_KERNELS_FLAG);
  const gpu = fused ? sameFormatOnGpu(sets.map((s) => s.linear)) : null;
  if (gpu && linearShape(gpu[0])[0] <= DENSE_ADD_LAYER_NORM_MAX_N) {
    const attrs: DenseAddLayerNormAttrs = {
      format: gpu[0].format ?? 'f32',
      inFeatures: linearShape(gpu[0])[1],
      split: sets.length === 1 ? x.size / x.shape[x.shape.length - 1] : split,
      eps,
    };
    const inputs: tf.NamedTensorMap = {
      x,
      residual,
      weight: storedWeight(gpu[0]),
      epilogue: sets[0].epilogue(),
    };
    if (sets.length > 1) {
      inputs.weight1 = storedWeight(gpu[1]);
      inputs.epilogue1 = sets[1].epilogue();
    }
    return tf.engine().runKernel(LXMERT_DENSE_ADD_LAYER_NORM, inputs, attrs) as tf.Tensor;
  }
  // With weights packed for the WASM GEMM kernel: one call into its module (product, bias,
  // residual add, LayerNorm).
  const one = (xs: tf.Tensor, rs: tf.Tensor, s: NormedLinear) =>
    s.linear.format === 'wasm-gemm' && gemmAddLayerNormFits(s.linear)
      ? gemmDenseAddLayerNorm(xs, s.linear, rs, s.gamma, s.beta, eps)
      : addLayerNorm(dense(xs, s.linear), rs, s.gamma, s.beta, eps);
  if (sets.length === 1) return tf.tidy(() => one(x, residual, sets[0]));
  return tf.tidy(() => {
    const [x0, x1] = splitRows(x, split);
    const [r0, r1] = splitRows(residual, split);
    const y = tf.concat([one(x0, r0, sets[0]), one(x1, r1, sets[1])], 0);
    return tf.reshape(y, residual.shape);
  });
}

/**
 * One or two attentions over rows of a stacked fused projection qkv [rows, 3H] (q | k | v):
 * group g's queries are rows qRow + b·lq + i, its keys and values rows kRow + b·lk + j, its
 * additive key mask [batch, lk] or null. Returns the context [Σ batch·lq, H] in group order
 * and, on request, group 0's probabilities [batch, heads, lq, lk]. One dispatch on webgpu
 * (plus one for the probabilities); elsewhere attention() per group.
 */
export function groupedAttention(
  qkv: tf.Tensor2D,
  groups: readonly AttentionGroup[],
  batch: number,
  numHeads: number,
  returnProbs = false,
): { context: tf.Tensor2D; probs?: tf.Tensor4D } {
  const hidden = qkv.shape[1] / 3;
  if (tf.getBackend() === 'webgpu' && useKernel(LXMERT_GROUPED_ATTENTION)) {
    const [g0, g1] = groups;
    const attrs: GroupedAttentionAttrs = {
      numHeads,
      hidden,
      batch,
      groups: groups.length,
      qRow: g0.qRow,
      kRow: g0.kRow,
      lq: g0.lq,
      lk: g0.lk,
      qRow1: g1?.qRow ?? 0,
      kRow1: g1?.kRow ?? 0,
      lq1: g1?.lq ?? 0,
      lk1: g1?.lk ?? 0,
      returnProbs,
    };
    const inputs: tf.NamedTensorMap = { qkv };
    if (g0.mask) inputs.mask = g0.mask;
    if (g1?.mask) inputs.mask1 = g1.mask;
    const out = tf.engine().runKernel(LXMERT_GROUPED_ATTENTION, inputs, attrs) as
      tf.Tensor | tf.Tensor[];
    const [context, probs] = Array.isArray(out) ? out : [out];
    return returnProbs
      ? { context: context as tf.Tensor2D, probs: probs as tf.Tensor4D }
      : { context: context as tf.Tensor2D };
  }
  let probs: tf.Tensor4D | undefined;
  const context = tf.tidy(() => {
    const rows = (start: number, len: number) =>
      tf.reshape(tf.slice(qkv, [start, 0], [batch * len, -1]), [batch, len, 3 * hidden]);
    const parts = groups.map((g, i) => {
      const q = rows(g.qRow, g.lq) as tf.Tensor3D;
      const kv = rows(g.kRow, g.lk) as tf.Tensor3D;
      const [qp] = splitProjections(q, 3);
      const [, kp, vp] = splitProjections(kv, 3);
      const r = attention(qp, kp, vp, g.mask, numHeads, returnProbs && i === 0);
      if (r.probs) probs = tf.keep(r.probs);
      return tf.reshape(r.context, [-1, hidden]);
    });
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor2D;
  });
  return probs ? { context, probs } : { context };
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

/**
 * Rows of an embedding table at `ids` ([n] int32) as float32 [n, H]. The table is a
 * LinearWeights in [rows, H] layout (bias unused): float32 goes through tf.gather; packed
 * float16/int8 tables are decoded on the fly by the WebGPU kernel, so they stay compact on the
 * GPU (elsewhere through their dequantized copy).
 */
export function gatherRows(table: LinearWeights, ids: tf.Tensor1D): tf.Tensor2D {
  if (table.format === 'f32-in-out' || table.format === 'wasm-gemm') {
    throw new InputError('table', 'an embedding table in [rows, H] layout', `'${table.format}'`);
  }
  if (table.format !== 'f16' && table.format !== 'int8') {
    return tf.gather(table.weight, ids) as tf.Tensor2D;
  }
  // On wasm/cpu packed tables go through their cached float32 copy (the registered tf-op
  // kernel would decode the whole table at every call).
  if (useKernel(LXMERT_GATHER_ROWS) && tf.getBackend() === 'webgpu') {
    const attrs: GatherRowsAttrs = { format: table.format, width: table.inFeatures };
    const inputs: tf.NamedTensorMap = { table: table.packed, ids };
    if (table.format === 'int8') inputs.scales = table.scales;
    return tf.engine().runKernel(LXMERT_GATHER_ROWS, inputs, attrs) as tf.Tensor2D;
  }
  return tf.gather(dequantizedWeight(table), ids) as tf.Tensor2D;
}

/**
 * torchvision's RoIPool on the active backend (WGSL on webgpu, a host loop on wasm/cpu):
 * x [1, H, W, C], boxes [R, 4] x1,y1,x2,y2 in input pixels → [R, P, Q, C].
 */
export function roiPool(
  x: tf.Tensor4D,
  boxes: tf.Tensor2D,
  pooled: number | [number, number],
  spatialScale: number,
): tf.Tensor4D {
  registerLxmertKernels();
  const [pooledHeight, pooledWidth] = typeof pooled === 'number' ? [pooled, pooled] : pooled;
  const attrs: RoiPoolAttrs = { pooledHeight, pooledWidth, spatialScale };
  return tf.engine().runKernel(LXMERT_ROI_POOL, { x, boxes }, attrs) as tf.Tensor4D;
}
