/** WebGPU program of the fused attention kernel (attention.wgsl). */
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { ATTENTION_WGSL } from './wgsl_sources.js';

/** Tile sizes for one head size: workgroup memory stays under the 16 KiB WebGPU minimum. */
export function attentionTiling(headDim: number): {
  tq: number;
  tk: number;
  tpr: number;
  dpt: number;
} {
  const tq = 8;
  const tpr = 8;
  const tk = Math.max(4, Math.min(32, Math.floor(1024 / headDim)));
  return { tq, tk, tpr, dpt: Math.ceil(headDim / tpr) };
}

/**
 * Which key masks a program binds: one flag per group (`mask` for group 0, `mask1` for group 1).
 * A plain boolean is one group.
 */
export type AttentionMasks = boolean | readonly [boolean, boolean];

function maskFlags(masks: AttentionMasks): readonly boolean[] {
  return typeof masks === 'boolean' ? [masks] : masks;
}

/**
 * The masks' part of a shader key: [m, false] compiles to the one-group shader m (group 1 has
 * no mask to read; groups are a dispatch size), so it shares that key.
 */
export function maskKey(masks: AttentionMasks): string {
  const [m0, m1] = maskFlags(masks);
  return m1 ? `${m0}_${m1}` : `${m0}`;
}

/** The bindings of an attention program: q, k, v, then the masks present. */
export function attentionVariables(masks: AttentionMasks, withV = true): string[] {
  const [m0, m1] = maskFlags(masks);
  return ['q', 'k', ...(withV ? ['v'] : []), ...(m0 ? ['mask'] : []), ...(m1 ? ['mask1'] : [])];
}

/**
 * The accessors attention.wgsl and attention_probs.wgsl read their operands through. Rows of
 * q (k, v) of group g, batch b, position i sit at row `qRow_g + b·lq_g + i` of their
 * [rows, stride] tensor, `offset` columns in; group 0 is the whole call when there is one group
 * (its rows start at 0). Workgroup z = g·batch + b. Output rows of group 1 start at outRow1.
 */
export function attentionAccessors(masks: AttentionMasks): string {
  const [m0, m1] = maskFlags(masks);
  return `
fn groupOf(z: i32) -> i32 { return z / uniforms.batch; }
fn batchOf(z: i32) -> i32 { return z % uniforms.batch; }
fn queryCount(g: i32) -> i32 { return select(uniforms.lq, uniforms.lq1, g == 1); }
fn keyCount(g: i32) -> i32 { return select(uniforms.lk, uniforms.lk1, g == 1); }
fn keyLoopEnd() -> i32 { return max(uniforms.lk, uniforms.lk1); }
fn qRowOf(g: i32, b: i32, i: i32) -> i32 {
  return select(uniforms.qRow, uniforms.qRow1, g == 1) + b * queryCount(g) + i;
}
fn kRowOf(g: i32, b: i32, j: i32) -> i32 {
  return select(uniforms.kRow, uniforms.kRow1, g == 1) + b * keyCount(g) + j;
}
fn qAt(g: i32, b: i32, i: i32, d: i32) -> f32 {
  return q[qRowOf(g, b, i) * uniforms.qStride + uniforms.qOffset + d];
}
fn kAt(g: i32, b: i32, j: i32, d: i32) -> f32 {
  return k[kRowOf(g, b, j) * uniforms.kStride + uniforms.kOffset + d];
}
fn outIndex(g: i32, b: i32, i: i32) -> i32 {
  return (select(0, uniforms.outRow1, g == 1) + b * queryCount(g) + i) * uniforms.outWidth;
}
fn maskAt(g: i32, b: i32, j: i32) -> f32 {
  if (g == 0) { return ${m0 ? 'mask[b * uniforms.lk + j]' : '0.0'}; }
  return ${m1 ? 'mask1[b * uniforms.lk1 + j]' : '0.0'};
}`;
}

/** vAt, for the context program (the probabilities program binds no v). */
const V_ACCESSOR = `
fn vAt(g: i32, b: i32, j: i32, d: i32) -> f32 {
  return v[kRowOf(g, b, j) * uniforms.vStride + uniforms.vOffset + d];
}`;

/**
 * Uniform order (set in Attention.ts): group 0's numHeads … scale, then the rows where group 0's
 * queries and keys start and group 1's sizes and rows (zeros with one group).
 */
export const ATTENTION_UNIFORMS =
  'numHeads : i32, batch : i32, lq : i32, lk : i32, qStride : i32, kStride : i32, ' +
  'vStride : i32, qOffset : i32, kOffset : i32, vOffset : i32, outWidth : i32, scale : f32, ' +
  'qRow : i32, kRow : i32, lq1 : i32, lk1 : i32, qRow1 : i32, kRow1 : i32, outRow1 : i32,';

export class AttentionProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y: number[]; z: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  uniforms = ATTENTION_UNIFORMS;
  workgroupSize: [number, number, number];
  private readonly headDim: number;
  private readonly masks: AttentionMasks;

  /**
   * Output [B, Lq, hidden] with one group; with two (`masks` a pair), [rows, hidden] where
   * `lq` is the larger group's query count and `outRows` both groups' query rows.
   */
  constructor(
    batch: number,
    lq: number,
    numHeads: number,
    headDim: number,
    masks: AttentionMasks,
    outRows?: number,
  ) {
    const { tq, tpr } = attentionTiling(headDim);
    const groups = maskFlags(masks).length;
    this.headDim = headDim;
    this.masks = masks;
    this.outputShape =
      groups === 1 ? [batch, lq, numHeads * headDim] : [outRows ?? 0, numHeads * headDim];
    this.variableNames = attentionVariables(masks);
    this.workgroupSize = [tq * tpr, 1, 1];
    this.dispatchLayout = { x: [1], y: [2], z: [0] };
    this.dispatch = [Math.ceil(lq / tq), numHeads, batch * groups];
    this.shaderKey = `lxmertAttention_${headDim}_${maskKey(masks)}`;
  }

  getUserCode(): string {
    const { tq, tk, tpr, dpt } = attentionTiling(this.headDim);
    return [
      `const HEAD_DIM = ${this.headDim};`,
      `const TQ = ${tq};`,
      `const TK = ${tk};`,
      `const TPR = ${tpr};`,
      `const DPT = ${dpt};`,
      `const WG = ${tq * tpr};`,
      attentionAccessors(this.masks),
      V_ACCESSOR,
      ATTENTION_WGSL,
    ].join('\n');
  }
}
