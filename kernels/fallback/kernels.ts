/**
 * The fused kernel names registered for `wasm` and `cpu` as compositions of tf ops. A kernelFunc
 * may return Tensors (the engine passes them through, see Engine.runKernelFunc); the ops run on
 * the same backend inside a tidy that keeps only the outputs. Inputs arrive as the caller's
 * Tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  checkAttention,
  checkDense,
  denseAddLayerNormInputs,
  checkDenseGroup,
  checkGatherRows,
  checkGroupedAttention,
  checkLayerNorm,
  requireInputs,
} from '../guards.js';
import {
  LXMERT_ADD_LAYER_NORM,
  LXMERT_ATTENTION,
  LXMERT_DENSE,
  LXMERT_DENSE_ADD_LAYER_NORM,
  LXMERT_GATHER_ROWS,
  LXMERT_GROUPED_ATTENTION,
  LXMERT_ROI_POOL,
  type AddLayerNormAttrs,
  type GatherRowsAttrs,
  type AttentionAttrs,
  type DenseAddLayerNormAttrs,
  type DenseAttrs,
  type GroupedAttentionAttrs,
  type GroupedDenseAttrs,
  type WeightFormat,
} from '../names.js';
import type { LinearWeights } from '../types.js';
import { unpackWords } from '../../src/codec/gpu_words.js';
import { attentionFallback } from './attention.js';
import { denseFallback } from './dense.js';
import { addLayerNormFallback } from './add_layer_norm.js';
import {
  denseAddLayerNormFallback,
  groupedAttentionFallback,
  groupedDenseFallback,
} from './grouped.js';
import { roiPoolTf } from './roi_pool.js';

function asTensor<T extends tf.Tensor>(t: TensorInfo): T {
  return (t instanceof tf.Tensor ? t : tf.engine().makeTensorFromTensorInfo(t)) as T;
}

/** Columns [offset, offset + width) of a [B, L, W] tensor. */
export function columns(t: tf.Tensor3D, offset: number, width: number): tf.Tensor3D {
  if (offset === 0 && width === t.shape[2]) return t;
  return tf.slice(t, [0, 0, offset], [-1, -1, width]);
}

const attentionTf: KernelFunc = ({ inputs, attrs }) => {
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { q, k, v } = requireInputs(LXMERT_ATTENTION, named, ['q', 'k', 'v']);
  const mask = named.mask;
  const a = attrs as unknown as AttentionAttrs;
  checkAttention(q, k, v, mask, a);
  return tf.tidy(() => {
    const r = attentionFallback(
      columns(asTensor(q), a.qOffset, a.hidden),
      columns(asTensor(k), a.kOffset, a.hidden),
      columns(asTensor(v), a.vOffset, a.hidden),
      mask ? asTensor<tf.Tensor2D>(mask) : null,
      a.numHeads,
      a.returnProbs,
    );
    return r.probs ? [r.context, r.probs] : r.context;
  });
};

/**
 * A stored weight as float32 [out, in]: f32 as is; packed f16/int8 decoded on the host (direct
 * runKernel callers only: ops.dense passes the cached float32 copy instead).
 */
function floatWeight(
  backend: tf.KernelBackend,
  weight: TensorInfo,
  scales: TensorInfo | Float32Array | undefined,
  format: WeightFormat,
  inFeatures: number,
): tf.Tensor2D {
  if (format === 'f32') return asTensor<tf.Tensor2D>(weight);
  const words = backend.readSync(weight.dataId) as Int32Array;
  const s =
    scales instanceof Float32Array
      ? scales
      : scales
        ? (backend.readSync(scales.dataId) as Float32Array)
        : undefined;
  const out = weight.shape[0];
  return tf.tensor2d(unpackWords(format, words, out, inFeatures, s), [out, inFeatures]);
}

const denseTf: KernelFunc = ({ inputs, attrs, backend }) => {
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { x, weight, bias } = requireInputs(LXMERT_DENSE, named, ['x', 'weight', 'bias']);
  const scales = named.scales;
  const a = attrs as unknown as DenseAttrs;
  const dims = checkDense(x, weight, bias, scales, a);
  const { weight1, bias1, scales1 } = named;
  const split = weight1
    ? checkDenseGroup(dims, weight1, bias1, scales1, a as GroupedDenseAttrs)
    : undefined;
  const kb = backend as tf.KernelBackend;
  return tf.tidy(() => {
    const set = (w: TensorInfo, b: TensorInfo, s: TensorInfo | undefined): LinearWeights => ({
      weight: floatWeight(kb, w, s, a.format, a.inFeatures),
      bias: asTensor<tf.Tensor1D>(b),
    });
    const first = set(weight, bias, scales);
    if (split === undefined) return denseFallback(asTensor(x), first, a.activation);
    const second = set(weight1!, bias1!, scales1);
    return groupedDenseFallback(asTensor(x), [first, second], split, a.activation);
  });
};

const denseAddLayerNormTf: KernelFunc = ({ inputs, attrs, backend }) => {
  const a = attrs as unknown as DenseAddLayerNormAttrs;
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { x, residual, weight, epilogue, weight1, epilogue1, dims } = denseAddLayerNormInputs(
    named,
    a,
  );
  const kb = backend as tf.KernelBackend;
  return tf.tidy(() => {
    const set = (w: TensorInfo, e: TensorInfo) => {
      const rows = tf.unstack(asTensor<tf.Tensor2D>(e)) as tf.Tensor1D[];
      const scales = a.format === 'int8' ? (rows[3].dataSync() as Float32Array) : undefined;
      return {
        linear: { weight: floatWeight(kb, w, scales, a.format, a.inFeatures), bias: rows[0] },
        gamma: rows[1],
        beta: rows[2],
      };
    };
    const sets = [set(weight, epilogue)];
    if (weight1 && epilogue1) sets.push(set(weight1, epilogue1));
    return denseAddLayerNormFallback(asTensor(x), asTensor(residual), sets, dims.split, a.eps);
  });
};

const groupedAttentionTf: KernelFunc = ({ inputs, attrs }) => {
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { qkv } = requireInputs(LXMERT_GROUPED_ATTENTION, named, ['qkv']);
  const { mask, mask1 } = named;
  const a = attrs as unknown as GroupedAttentionAttrs;
  checkGroupedAttention(qkv, mask, mask1, a);
  const m = (t: TensorInfo | undefined) => (t ? asTensor<tf.Tensor2D>(t) : null);
  const groups = [{ qRow: a.qRow, lq: a.lq, kRow: a.kRow, lk: a.lk, mask: m(mask) }];
  if (a.groups === 2) {
    groups.push({ qRow: a.qRow1, lq: a.lq1, kRow: a.kRow1, lk: a.lk1, mask: m(mask1) });
  }
  const r = groupedAttentionFallback(asTensor(qkv), groups, a.batch, a.numHeads, a.returnProbs);
  return r.probs ? [r.context, r.probs] : r.context;
};

const addLayerNormTf: KernelFunc = ({ inputs, attrs }) => {
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { x, gamma, beta } = requireInputs(LXMERT_ADD_LAYER_NORM, named, ['x', 'gamma', 'beta']);
  const residual = named.residual;
  checkLayerNorm(x, residual, gamma, beta);
  const { eps } = attrs as unknown as AddLayerNormAttrs;
  return addLayerNormFallback(
    asTensor(x),
    residual ? asTensor(residual) : null,
    asTensor<tf.Tensor1D>(gamma),
    asTensor<tf.Tensor1D>(beta),
    eps,
  );
};

const gatherRowsTf: KernelFunc = ({ inputs, attrs, backend }) => {
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { table, ids } = requireInputs(LXMERT_GATHER_ROWS, named, ['table', 'ids']);
  const scales = named.scales;
  const a = attrs as unknown as GatherRowsAttrs;
  checkGatherRows(table, ids, scales, a);
  return tf.tidy(() => {
    let t: tf.Tensor2D;
    if (a.format === 'f32') {
      t = asTensor<tf.Tensor2D>(table);
    } else {
      const kb = backend as tf.KernelBackend;
      const words = kb.readSync(table.dataId) as Int32Array;
      const s = scales ? (kb.readSync(scales.dataId) as Float32Array) : undefined;
      const rows = table.shape[0];
      t = tf.tensor2d(unpackWords(a.format, words, rows, a.width, s), [rows, a.width]);
    }
    return tf.gather(t, asTensor(ids));
  });
};

/** Configs of the tf-op kernels for one backend name ('wasm', 'cpu'). */
export function fallbackKernelConfigs(backendName: string): KernelConfig[] {
  return [
    { kernelName: LXMERT_ATTENTION, backendName, kernelFunc: attentionTf },
    { kernelName: LXMERT_DENSE, backendName, kernelFunc: denseTf },
    { kernelName: LXMERT_DENSE_ADD_LAYER_NORM, backendName, kernelFunc: denseAddLayerNormTf },
    { kernelName: LXMERT_GROUPED_ATTENTION, backendName, kernelFunc: groupedAttentionTf },
    { kernelName: LXMERT_ADD_LAYER_NORM, backendName, kernelFunc: addLayerNormTf },
    { kernelName: LXMERT_GATHER_ROWS, backendName, kernelFunc: gatherRowsTf },
    { kernelName: LXMERT_ROI_POOL, backendName, kernelFunc: roiPoolTf },
  ];
}
