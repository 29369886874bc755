/** Types shared by the fused ops, their WebGPU kernels and their tf-op fallbacks. */
import type * as tf from '@tensorflow/tfjs-core';
import type { PackedGemm } from './wasm/gemm.js';

/** A float32 Linear layer in Hugging Face layout: y = x · weightᵀ + bias. */
export interface DenseLinearWeights {
  /** Absent or 'f32'. */
  format?: 'f32';
  /** [out, in], as in the PyTorch state_dict. */
  weight: tf.Tensor2D;
  /** [out]. */
  bias: tf.Tensor1D;
}

/**
 * A float32 Linear layer stored transposed, [in, out] (the tf.js/Keras `kernel` layout): the
 * tf-op path's layout on wasm/cpu, where tfjs-backend-wasm's matMul with transposeB is ~15×
 * slower than with a pre-transposed operand. y = x · kernel + bias. Not read by the WebGPU
 * kernels (the model builds 'f32'/'f16'/'int8' weights there).
 */
export interface KernelLinearWeights {
  format: 'f32-in-out';
  /** [in, out]. */
  kernel: tf.Tensor2D;
  /** [out]. */
  bias: tf.Tensor1D;
}

/**
 * A float32 Linear layer packed for the WASM GEMM kernel (kernels/wasm/gemm.ts): weight and bias
 * live once, in the kernel's own memory, not as tf tensors. The wasm backend's dense path.
 */
export interface GemmLinearWeights {
  format: 'wasm-gemm';
  packed: PackedGemm;
}

/**
 * A Linear layer whose weight stays float16 on the device: pairs of halves packed in int32 words,
 * `packed` [out, ceil(in/2)], word j of row n = W[n, 2j] (low 16 bits) | W[n, 2j+1] << 16.
 */
export interface F16LinearWeights {
  format: 'f16';
  packed: tf.Tensor2D;
  /** in (the packed width rounds it up to even). */
  inFeatures: number;
  /** [out], float32. */
  bias: tf.Tensor1D;
}

/**
 * A Linear layer with symmetric per-output-row int8 weights: W[n, k] = q[n, k] · scales[n],
 * `packed` [out, ceil(in/4)] int32 words, byte b of word j = q[n, 4j+b] (two's complement).
 */
export interface Int8LinearWeights {
  format: 'int8';
  packed: tf.Tensor2D;
  /** [out], float32. */
  scales: tf.Tensor1D;
  inFeatures: number;
  /** [out], float32. */
  bias: tf.Tensor1D;
}

/** A Linear layer's parameters in any storage format (make them with makeLinearWeights). */
export type LinearWeights =
  | DenseLinearWeights
  | KernelLinearWeights
  | GemmLinearWeights
  | F16LinearWeights
  | Int8LinearWeights;

/** Activations applied after a Linear layer (HF ACT2FN names we implement). */
export type Activation =
  | 'linear'
  | 'gelu'
  | 'gelu_new'
  | 'gelu_fast'
  | 'quick_gelu'
  | 'relu'
  | 'silu'
  | 'tanh'
  | 'sigmoid';

/**
 * One projection inside a wider [B, L, n·H] tensor, e.g. the output of a fused QKV dense:
 * columns [offset, offset + width) are read. Lets attention read q, k and v in place without
 * slicing (see splitProjections in ops.ts).
 */
export interface PackedProjection {
  packed: tf.Tensor3D;
  /** First column of this projection. */
  offset: number;
  /** Its width, H = numHeads · headDim. */
  width: number;
}

/** q, k or v for attention: a [B, L, H] tensor or a column range of a wider one. */
export type ProjectionInput = tf.Tensor3D | PackedProjection;

/** Result of fused attention. */
export interface AttentionResult {
  /** [B, Lq, H]: heads merged back. */
  context: tf.Tensor3D;
  /** [B, heads, Lq, Lk] softmax probabilities, only when asked for. */
  probs?: tf.Tensor4D;
}

/**
 * A Linear followed by a residual add and LayerNorm (HF LxmertAttentionOutput, LxmertOutput):
 * the weights of ops.denseAddLayerNorm.
 */
export interface NormedLinear {
  linear: LinearWeights;
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
  /**
   * [3, out] bias, gamma, beta (int8: [4, out], then the row scales) as one tensor, for the
   * fused WebGPU kernel (one binding per weight set); made by the owner on first use.
   */
  epilogue(): tf.Tensor2D;
}
