/**
 * The fused kernel names registered for `wasm` and `cpu` as compositions of tf ops. A kernelFunc
 * may return Tensors (the engine passes them through, see Engine.runKernelFunc); the ops run on
 * the same backend inside a tidy that keeps only the outputs. Inputs arrive as the caller's
 * Tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { checkAttention, checkLayerNorm } from '../guards.js';
import { checkGatherRows } from '../GatherRows.js';
import {
  LXMERT_ADD_LAYER_NORM,
  LXMERT_ATTENTION,
  LXMERT_DENSE,
  LXMERT_GATHER_ROWS,
  type AddLayerNormAttrs,
  type GatherRowsAttrs,
  type AttentionAttrs,
  type DenseAttrs,
} from '../names.js';
import { unpackWords } from '../../src/codec/gpu_words.js';
import { attentionFallback } from './attention.js';
import { denseFallback } from './dense.js';
import { addLayerNormFallback } from './layer_norm.js';

function asTensor<T extends tf.Tensor>(t: TensorInfo): T {
  return (t instanceof tf.Tensor ? t : tf.engine().makeTensorFromTensorInfo(t)) as T;
}

/** Columns [offset, offset + width) of a [B, L, W] tensor. */
export function columns(t: tf.Tensor3D, offset: number, width: number): tf.Tensor3D {
  if (offset === 0 && width === t.shape[2]) return t;
  return tf.slice(t, [0, 0, offset], [-1, -1, width]);
}

const attentionTf: KernelFunc = ({ inputs, attrs }) => {
  const { q, k, v, mask } = inputs as Record<string, TensorInfo | undefined>;
  if (!q || !k || !v) throw new Error(`${LXMERT_ATTENTION}: q, k and v are required`);
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

const denseTf: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, weight, bias, scales } = inputs as Record<string, TensorInfo | undefined>;
  if (!x || !weight || !bias) throw new Error(`${LXMERT_DENSE}: x, weight and bias are required`);
  const a = attrs as unknown as DenseAttrs;
  return tf.tidy(() => {
    let w: tf.Tensor2D;
    if (a.format === 'f32') {
      w = asTensor<tf.Tensor2D>(weight);
    } else {
      // Direct runKernel callers only: ops.dense passes the cached float32 copy instead.
      const kb = backend as tf.KernelBackend;
      const words = kb.readSync(weight.dataId) as Int32Array;
      const s = scales ? (kb.readSync(scales.dataId) as Float32Array) : undefined;
      const out = weight.shape[0];
      w = tf.tensor2d(unpackWords(a.format, words, out, a.inFeatures, s), [out, a.inFeatures]);
    }
    return denseFallback(
      asTensor(x),
      { weight: w, bias: asTensor<tf.Tensor1D>(bias) },
      a.activation,
    );
  });
};

const addLayerNormTf: KernelFunc = ({ inputs, attrs }) => {
  const { x, residual, gamma, beta } = inputs as Record<string, TensorInfo | undefined>;
  if (!x || !gamma || !beta)
    throw new Error(`${LXMERT_ADD_LAYER_NORM}: x, gamma and beta are required`);
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
  const { table, ids, scales } = inputs as Record<string, TensorInfo | undefined>;
  if (!table || !ids) throw new Error(`${LXMERT_GATHER_ROWS}: table and ids are required`);
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
    { kernelName: LXMERT_ADD_LAYER_NORM, backendName, kernelFunc: addLayerNormTf },
    { kernelName: LXMERT_GATHER_ROWS, backendName, kernelFunc: gatherRowsTf },
  ];
}
