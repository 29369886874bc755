/**
 * Dispatches per layer kind on WebGPU (Dawn over SwiftShader here), with the fused kernels: a
 * cross-modality layer with both streams takes at most 10 (issue 11; 8 with the grouped
 * kernels), language and vision layers at most 7. Counted as the benches do (bench/gpu,
 * bench/browser): the difference between forwards of tiny-width models with one more layer of a
 * kind, so what a layer costs inside the model (stacking the streams once is not a layer's).
 * Also the outputs of the grouped path against the stream-by-stream path (fused kernels off).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseWebGPU } from '../../src/backend.js';
import { DEFAULT_CONFIG, type LxmertConfig } from '../../src/config.js';
import { LxmertModel, randomWeightSource, type LxmertInputs } from '../../src/model/index.js';
import { dispatchesPerLayerKind, forwardDispatches } from '../../src/model/dispatches.js';
import { LxmertXLayer, stackStreams, unstackStreams } from '../../src/model/x_layer.js';
import { setFusedKernels } from '../../kernels/ops.js';
import { trackDispatches } from '../../kernels/runtime/dispatch_counter.js';
import { keyMask, randomArray, relL2, useWebGPU } from './webgpu_env.js';

const TINY: Partial<LxmertConfig> = {
  hiddenSize: 32,
  numAttentionHeads: 2,
  intermediateSize: 64,
  vocabSize: 64,
  visualFeatDim: 16,
  maxPositionEmbeddings: 16,
  architectures: [],
  id2label: null,
};

let ready = false;
beforeAll(async () => {
  ready = (await useWebGPU()) !== null;
});
afterAll(async () => {
  setFusedKernels(true);
  await releaseWebGPU();
});

function inputs(cfg: LxmertConfig, b: number, l: number, v: number): LxmertInputs {
  return tf.tidy(() => ({
    inputIds: tf.randomUniform([b, l], 1, cfg.vocabSize, 'int32', 1) as tf.Tensor2D,
    visualFeats: tf.randomUniform([b, v, cfg.visualFeatDim], 0, 1, 'float32', 4) as tf.Tensor3D,
    visualPos: tf.randomUniform([b, v, 4], 0, 1, 'float32', 2) as tf.Tensor3D,
    attentionMask: tf.ones([b, l], 'int32') as tf.Tensor2D,
  }));
}

/** Dispatches of one LxmertModel forward (both streams of every cross layer). */
async function dispatchesFor(l: number, r: number, x: number): Promise<number> {
  const cfg = { ...DEFAULT_CONFIG, ...TINY, lLayers: l, rLayers: r, xLayers: x };
  const model = new LxmertModel(cfg, randomWeightSource(1));
  const inp = inputs(cfg, 1, 5, 4);
  const n = await forwardDispatches(model, inp);
  tf.dispose(Object.values(inp));
  model.dispose();
  return n;
}

describe('dispatches per layer kind (webgpu, fused kernels)', () => {
  it('cross-modality layer ≤ 10 with both streams; language and vision ≤ 7', async ({ skip }) => {
    if (!ready) skip();
    setFusedKernels(true);
    const { language, vision, cross } = await dispatchesPerLayerKind(dispatchesFor);
    const perLayer = { language, vision, cross };
    console.log(`dispatches per layer: ${JSON.stringify(perLayer)}`);
    expect(perLayer.cross).toBeLessThanOrEqual(10);
    expect(perLayer.language).toBeLessThanOrEqual(7);
    expect(perLayer.vision).toBeLessThanOrEqual(7);
  }, 300_000); // four small models' shaders compiled on SwiftShader, slow when the CPUs are shared

  it('one stacked cross layer: 8 dispatches, same outputs as stream by stream', async ({
    skip,
  }) => {
    if (!ready) skip();
    const cfg = { ...DEFAULT_CONFIG, ...TINY };
    const layer = new LxmertXLayer(cfg, 'x', randomWeightSource(3, 0.2));
    const [b, l, v, h] = [2, 5, 7, cfg.hiddenSize];
    const lang = tf.tensor3d(randomArray(b * l * h, 5), [b, l, h]);
    const visn = tf.tensor3d(randomArray(b * v * h, 6), [b, v, h]);
    const langMask = tf.tensor2d(keyMask(b, l, [5, 3]), [b, l]);
    const visnMask = tf.tensor2d(keyMask(b, v, [7, 4]), [b, v]);
    const before = tf.memory().numTensors;

    setFusedKernels(true);
    const stacked = stackStreams(lang, visn);
    const counter = trackDispatches();
    const r = layer.forwardStacked(stacked, langMask, visnMask, true);
    const stats = counter.stop();
    const grouped = { ...unstackStreams(r.stacked), probs: r.crossProbs! };
    tf.dispose([stacked.rows, r.stacked.rows]);
    // The cross probabilities are one more dispatch, on request only.
    expect(stats.total - (stats.byProgram.AttentionProbsProgram ?? 0)).toBe(8);

    setFusedKernels(false);
    const ref = layer.forward(lang, langMask, visn, visnMask, true);
    setFusedKernels(true);
    for (const [name, got, want] of [
      ['lang', grouped.lang, ref.lang],
      ['visn', grouped.visn, ref.visn],
      ['crossProbs', grouped.probs, ref.crossProbs!],
    ] as const) {
      expect(got.shape, name).toEqual(want.shape);
      const e = relL2((await got.data()) as Float32Array, (await want.data()) as Float32Array);
      expect(e, name).toBeLessThan(1e-5);
    }
    tf.dispose([grouped.lang, grouped.visn, grouped.probs, ref.lang, ref.visn, ref.crossProbs!]);
    expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
    tf.dispose([lang, visn, langMask, visnMask]);
    layer.dispose();
  }, 300_000);
});
