/**
 * WebGPU dispatches of a model's forward, and per layer kind by differencing forwards of models
 * with one more layer of that kind (the layer-dispatch test, bench/browser and bench/gpu).
 */
import * as tf from '@tensorflow/tfjs-core';
import { trackDispatches } from '../../kernels/runtime/dispatch_counter.js';
import type { LxmertInputs } from './inputs.js';
import type { LxmertModel } from './lxmert_model.js';

/** Dispatches of the second of two forwards (the first compiles pipelines, uploads weights). */
export async function forwardDispatches(model: LxmertModel, inputs: LxmertInputs): Promise<number> {
  const run = async () => {
    const out = model.forward(inputs, { validate: false });
    await out.pooled_output.data();
    tf.dispose(Object.values(out));
  };
  await run();
  const counter = trackDispatches();
  await run();
  return counter.stop().total;
}

export interface LayerDispatches {
  language: number;
  vision: number;
  cross: number;
  /** Everything outside the layers (embeddings, pooler, stacking of the streams). */
  rest: number;
}

/** `count(l, r, x)`: dispatches of a forward with l language, r vision and x cross layers. */
export async function dispatchesPerLayerKind(
  count: (l: number, r: number, x: number) => Promise<number>,
): Promise<LayerDispatches> {
  const base = await count(1, 1, 1);
  const language = (await count(2, 1, 1)) - base;
  const vision = (await count(1, 2, 1)) - base;
  const cross = (await count(1, 1, 2)) - base;
  return { language, vision, cross, rest: base - language - vision - cross };
}
