/**
 * Names and attributes of the fused kernels. The same names are registered for `webgpu` (WGSL
 * programs) and for `wasm` / `cpu` (compositions of tf ops, kernels/fallback/).
 */
import type { Activation } from './types.js';

/** Inputs {q, k, v, mask?}; outputs [context] or [context, probs]. */
export const LXMERT_ATTENTION = 'LxmertAttention';
/** Inputs {x, weight, bias, scales?}; output act(x·Wᵀ + b). */
export const LXMERT_DENSE = 'LxmertDense';
/** Inputs {x, residual?, gamma, beta}; output LayerNorm(x + residual). */
export const LXMERT_ADD_LAYER_NORM = 'LxmertAddLayerNorm';

/** Inputs {table, ids, scales?}; output the rows of `table` at `ids`, decoded to float32. */
export const LXMERT_GATHER_ROWS = 'LxmertGatherRows';

/**
 * Attributes of LxmertAttention. q, k and v are [B, L, width] tensors; each is read from column
 * `offset` on, `numHeads · headDim` wide (offset 0 and width = hidden for a plain projection; a
 * fused [B, L, 3H] QKV projection is passed three times with offsets 0, H, 2H).
 */
export interface AttentionAttrs {
  numHeads: number;
  /** Hidden size H = numHeads · headDim. */
  hidden: number;
  qOffset: number;
  kOffset: number;
  vOffset: number;
  returnProbs: boolean;
  /** Index signature for tf's NamedAttrMap. */
  [key: string]: number | boolean;
}

/** Storage formats of a Linear weight or embedding table (see weights.ts, weight_decoders.ts). */
export type WeightFormat = 'f32' | 'f16' | 'int8';

export interface DenseAttrs {
  activation: Activation;
  format: WeightFormat;
  /** K, the input features (packed formats round the stored width up). */
  inFeatures: number;
  [key: string]: string | number;
}

/**
 * With inputs weight1, bias1 (scales1) too, LxmertDense is grouped: rows [0, split) of x use
 * weight, rows [split, M) weight1 (two streams' Linear layers of the same shape in one dispatch).
 */
export interface GroupedDenseAttrs extends DenseAttrs {
  /** The rows of group 0. */
  split: number;
}

/**
 * Inputs {qkv [rows, 3H]: fused q | k | v projections of stacked streams, mask?, mask1?};
 * outputs [context] or [context, probs of group 0 [batch, heads, lq, lk]]. One or two
 * attentions in one dispatch: group g's queries are rows qRow_g + b·lq_g + i, its keys and
 * values rows kRow_g + b·lk_g + j; its mask [batch, lk_g] is `mask` (group 0) or `mask1`.
 * The context is [batch·lq + batch·lq1, H]: group 0's rows, then group 1's.
 */
export const LXMERT_GROUPED_ATTENTION = 'LxmertGroupedAttention';

export interface GroupedAttentionAttrs {
  numHeads: number;
  /** Hidden size H = numHeads · headDim (qkv is 3H wide). */
  hidden: number;
  batch: number;
  /** 1 or 2. */
  groups: number;
  qRow: number;
  kRow: number;
  lq: number;
  lk: number;
  /** Group 1 (ignored with one group). */
  qRow1: number;
  kRow1: number;
  lq1: number;
  lk1: number;
  returnProbs: boolean;
  [key: string]: number | boolean;
}

/**
 * Inputs {x [..., K], residual [..., N], weight, epilogue, weight1?, epilogue1?}; output
 * LayerNorm(x · Wᵀ + bias + residual) over N: a Linear, its residual add and LayerNorm in one
 * dispatch (HF LxmertAttentionOutput / LxmertOutput). `epilogue` is [3, N] (bias, gamma, beta)
 * or [4, N] with int8 weights (then the row scales). With weight1 and epilogue1, rows
 * [0, split) use weight and epilogue, rows [split, M) the second set.
 */
export const LXMERT_DENSE_ADD_LAYER_NORM = 'LxmertDenseAddLayerNorm';

export interface DenseAddLayerNormAttrs {
  format: WeightFormat;
  /** K (packed formats round the stored width up). */
  inFeatures: number;
  /** Rows of group 0 (all rows with one weight set). */
  split: number;
  eps: number;
  [key: string]: string | number;
}

export interface AddLayerNormAttrs {
  eps: number;
  [key: string]: number;
}

export interface GatherRowsAttrs {
  format: WeightFormat;
  /** H, the decoded row width (packed formats round the stored width up). */
  width: number;
  [key: string]: string | number;
}

/** Inputs {x [1, H, W, C], boxes [R, 4] x1,y1,x2,y2 in input pixels}; output [R, P, Q, C]. */
export const LXMERT_ROI_POOL = 'LxmertRoiPool';

/** Attributes of LxmertRoiPool (torchvision's RoIPool(output_size, spatial_scale)). */
export interface RoiPoolAttrs {
  pooledHeight: number;
  pooledWidth: number;
  /** Feature-map cells per input pixel (1/16 for res4). */
  spatialScale: number;
  [key: string]: number;
}
