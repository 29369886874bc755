/**
 * Base class of every LXMERT layer: a tf.js Layer whose weights carry their Hugging Face
 * state_dict names, so loading is a mechanical name → tensor map.
 *
 * Layers are built from a config with their weights at construction (their shapes follow from
 * the config, not from the inputs), and the model calls `call` directly: `apply`'s symbolic
 * machinery buys nothing for an inference-only graph and costs per-call overhead.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LinearWeights } from '../../kernels/types.js';

/** Produces a weight's initial value by HF name; the returned tensor is taken over. */
export type WeightSource = (hfName: string, shape: number[]) => tf.Tensor;

/** A LayerNorm's parameters. */
export interface LayerNormWeights {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
}

/** LXMERT's LayerNorm epsilon: HF hard-codes 1e-12 (config.layer_norm_eps is not read). */
export const LN_EPS = 1e-12;

let counter = 0;

export abstract class LxmertModule extends tfl.layers.Layer {
  /** HF state_dict name → variable, for this module only (children hold their own). */
  protected readonly hfWeights = new Map<string, tfl.LayerVariable>();
  /** Sub-modules, in HF attribute order. */
  protected readonly children: LxmertModule[] = [];

  constructor(
    /** HF attribute path of this module, e.g. `lxmert.encoder.x_layers.0`. */
    readonly prefix: string,
    protected readonly source: WeightSource,
  ) {
    super({ name: `${prefix.replace(/\./g, '_') || 'lxmert'}_${counter++}`, trainable: false });
    this.built = true;
    this._refCount = 1; // owned by its parent from birth: dispose() frees the weights
  }

  protected child<T extends LxmertModule>(m: T): T {
    this.children.push(m);
    return m;
  }

  /** Register one weight under `<prefix>.<suffix>`. */
  protected weight(suffix: string, shape: number[]): tfl.LayerVariable {
    const hfName = this.prefix ? `${this.prefix}.${suffix}` : suffix;
    const value = this.source(hfName, shape);
    const init = { apply: () => value };
    const v = this.addWeight(hfName, shape, value.dtype, init as never, undefined, false);
    this.hfWeights.set(hfName, v);
    return v;
  }

  /** A torch.nn.Linear at `<prefix>.<name>` (weight [out, in], bias [out]). */
  protected linear(name: string, inDim: number, outDim: number): LinearWeights {
    return {
      weight: this.weight(`${name}.weight`, [outDim, inDim]).read() as tf.Tensor2D,
      bias: this.weight(`${name}.bias`, [outDim]).read() as tf.Tensor1D,
    };
  }

  /** A torch.nn.LayerNorm at `<prefix>.<name>`. */
  protected layerNorm(name: string, dim: number): LayerNormWeights {
    return {
      gamma: this.weight(`${name}.weight`, [dim]).read() as tf.Tensor1D,
      beta: this.weight(`${name}.bias`, [dim]).read() as tf.Tensor1D,
    };
  }

  /** Every weight of this module and its children, by HF name. */
  namedWeights(out = new Map<string, tfl.LayerVariable>()): Map<string, tfl.LayerVariable> {
    for (const [k, v] of this.hfWeights) out.set(k, v);
    for (const c of this.children) c.namedWeights(out);
    return out;
  }

  /** Release every weight of this module and its children (GPU buffers included). */
  override dispose(): { refCountAfterDispose: number; numDisposedVariables: number } {
    let n = 0;
    for (const c of this.children) n += c.dispose().numDisposedVariables;
    const r = super.dispose();
    return {
      refCountAfterDispose: r.refCountAfterDispose,
      numDisposedVariables: n + r.numDisposedVariables,
    };
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), prefix: this.prefix };
  }
}
