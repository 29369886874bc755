/** Types shared by the fused ops, their WebGPU kernels and their tf-op fallbacks. */
import type * as tf from '@tensorflow/tfjs-core';

/** A Linear layer's parameters in Hugging Face layout: y = x · weightᵀ + bias. */
export interface LinearWeights {
  /** [out, in], as in the PyTorch state_dict. */
  weight: tf.Tensor2D;
  /** [out]. */
  bias: tf.Tensor1D;
}

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

/** Result of fused attention. */
export interface AttentionResult {
  /** [B, Lq, H]: heads merged back. */
  context: tf.Tensor3D;
  /** [B, heads, Lq, Lk] softmax probabilities, only when asked for. */
  probs?: tf.Tensor4D;
}
