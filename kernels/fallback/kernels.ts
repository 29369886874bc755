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
  checkGatherRows,
  checkLayerNorm,
  requireInputs,
} from '../guards.js';
import {
  LXMERT_ADD_LAYER_NORM,
  LXMERT_ATTENTION,
  LXMERT_DENSE,
  LXMERT_GATHER_ROWS,
  LXMERT_ROI_POOL,
  type AddLayerNormAttrs,
  type GatherRowsAttrs,
  type AttentionAttrs,
  type DenseAttrs,
} from '../names.js';
import { unpackWords } from '../../src/codec/gpu_words.js';
import { attentionFallback } from './attention.js';
import { denseFallback } from './dense.js';
import { addLayerNormFallback } from './add_layer_norm.js';
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

const denseTf: KernelFunc = ({ inputs, attrs, backend }) => {
  const named = inputs as Record<string, TensorInfo | undefined>;
  const { x, weight, bias } = requireInputs(LXMERT_DENSE, named, ['x', 'weight', 'bias']);
  const scales = named.scales;
  const a = attrs as unknown as DenseAttrs;
  checkDense(x, weight, bias, scales, a);
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
    { kernelName: LXMERT_ADD_LAYER_NORM, backendName, kernelFunc: addLayerNormTf },
    { kernelName: LXMERT_GATHER_ROWS, backendName, kernelFunc: gatherRowsTf },
    { kernelName: LXMERT_ROI_POOL, backendName, kernelFunc: roiPoolTf },
  ];
}
