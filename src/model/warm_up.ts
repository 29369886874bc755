/**
 * Ahead-of-first-question preparation of a VQA model, meant for load time: one VQA-path forward
 * on placeholder inputs of the shapes the questions will have, through compileAhead (webgpu:
 * every shader compiled in parallel and nothing dispatched; wasm/cpu: one real forward, which
 * makes XNNPACK pack the weights and the heap grow). The first real answer then costs what the
 * following ones do.
 */
import * as tf from '@tensorflow/tfjs-core';
import { compileAhead, type CompileAheadReport } from '../../kernels/runtime/compile_ahead.js';
import { gemmEngine } from '../../kernels/wasm/gemm.js';
import type { LxmertConfig } from '../config.js';
import { InputError } from '../errors.js';
import type { ForwardOptions, LxmertInputs } from './inputs.js';

export type { CompileAheadReport };

/** A model with the VQA path (LxmertForQuestionAnswering, LxmertForPreTraining). */
export interface WarmUpModel {
  readonly config: LxmertConfig;
  answerScores(inputs: LxmertInputs, opts?: ForwardOptions): tf.Tensor2D;
}

export interface WarmUpOptions {
  /** Questions per forward (default 1). */
  batch?: number;
  /** Tokens per question, padded (default 20, the VQA pipeline's maxLength). */
  tokens?: number;
  /** Regions per image (default 36, obj36 features). */
  boxes?: number;
}

function size(name: string, v: number | undefined, fallback: number, max: number): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new InputError(name, `an integer in [1, ${max}]`, String(v));
  }
  return n;
}

/**
 * On wasm, resolves once the WASM GEMM kernel's helper threads have started (they start only
 * while this thread yields to its event loop); elsewhere at once.
 */
export async function threadsReady(): Promise<void> {
  if (tf.getBackend() === 'wasm') await gemmEngine()?.whenReady();
}

/** Prepare `model` for questions of the given shapes (see the file comment). */
export async function warmUp(
  model: WarmUpModel,
  options: WarmUpOptions = {},
): Promise<CompileAheadReport> {
  const cfg = model.config;
  const b = size('batch', options.batch, 1, 1024);
  const l = size('tokens', options.tokens, 20, cfg.maxPositionEmbeddings);
  const v = size('boxes', options.boxes, 36, 4096);
  const inputs: LxmertInputs = tf.tidy(() => ({
    inputIds: tf.zeros([b, l], 'int32') as tf.Tensor2D,
    attentionMask: tf.ones([b, l], 'int32') as tf.Tensor2D,
    tokenTypeIds: tf.zeros([b, l], 'int32') as tf.Tensor2D, // as VqaPipeline passes them
    visualFeats: tf.zeros([b, v, cfg.visualFeatDim]) as tf.Tensor3D,
    visualPos: tf.zeros([b, v, cfg.visualPosDim]) as tf.Tensor3D,
  }));
  try {
    await threadsReady();
    return await compileAhead(() => model.answerScores(inputs, { validate: false }));
  } finally {
    tf.dispose(Object.values(inputs));
  }
}
