/**
 * Base class of every LXMERT layer: a tf.js Layer whose parameters are made from host data looked
 * up by their Hugging Face state_dict names, so loading is a mechanical name → tensor map.
 *
 * Layers are built from a config with their weights at construction (their shapes follow from
 * the config, not from the inputs). `call()` (and so tf.js's `apply()`) computes what the
 * layer's `forward()` does, with optional masks passed as kwargs; the model calls `forward`
 * directly, which also returns attentions and takes typed arguments. `getConfig()` holds the
 * config and the HF prefix: with the same weight source they rebuild the layer.
 *
 * Attribute names are HF's in camelCase (`LayerNorm`, `self`, `att`, `logitFc` …) except where
 * the tf.js Layer base owns the name (FORCED_RENAMES).
 * Linear weights are made by kernels/weights.ts in the storage the active backend runs fastest
 * (transposed float32 for the tf-op path on wasm/cpu; float32, packed float16 or int8 for the
 * WebGPU kernels), which tfjs-layers variables cannot express, so each module owns its tensors
 * and frees them in dispose().
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LinearWeights } from '../../kernels/types.js';
import {
  disposeLinearWeights,
  linearTensors,
  linearWeightBytes,
  makeLinearWeights,
  type HostLinear,
  type StorageFormat,
} from '../../kernels/weights.js';
import { concatRows, hostFloat32, hostValueCount, type HostValues } from '../codec/host_values.js';
import type { LxmertConfig } from '../config.js';
import { WeightsError, formatShape } from '../errors.js';

/** A weight's values on the host, row-major: float32, float16 bits, or per-row int8. */
export type HostWeightData = HostValues;

/** Where a model's parameters come from. */
export interface WeightSource {
  /** The values of one weight by HF name; `shape` is what the config says it must be. */
  get(hfName: string, shape: number[]): HostWeightData;
  /** How Linear weights are stored on the device (see kernels/weights.ts). */
  linearFormat: StorageFormat;
  /**
   * Device weights made ahead (while the files streamed in, see preparedWeightSource), handed
   * over once: a Linear by its HF prefixes (`<prefix>.weight` [out, in] + `<prefix>.bias`; several
   * prefixes: their rows concatenated, as linearConcat makes them) and [sum of outs, in], a
   * float32 tensor by HF name. Undefined: the module makes it from `get`.
   */
  takeLinear?(prefixes: readonly string[], shape: [number, number]): LinearWeights | undefined;
  takeTensor?(name: string, shape: number[]): tf.Tensor | undefined;
}

/** A LayerNorm's parameters. */
export interface LayerNormWeights {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
}

/**
 * HF attribute names that tf.js's Layer already owns (`output` is its output-tensor accessor),
 * and the names our layers use instead. Every other attribute keeps HF's name in camelCase.
 */
export const FORCED_RENAMES: Readonly<Record<string, string>> = {
  'LxmertSelfAttentionLayer.output': 'attOutput',
  'LxmertCrossAttentionLayer.output': 'attOutput',
  'LxmertLayer.output': 'ffnOutput',
};

/** The kwargs of a layer's call() (tf.js passes apply()'s through): optional masks. */
export type Kwargs = Record<string, unknown>;

/** The inputs of call() as a list. */
export function asList(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(inputs) ? inputs : [inputs];
}

/** An optional mask kwarg: the tensor, or null when absent. */
export function maskArg(mask: unknown): tf.Tensor2D | null {
  return mask instanceof tf.Tensor ? (mask as tf.Tensor2D) : null;
}

/** LXMERT's LayerNorm epsilon: HF hard-codes 1e-12 (config.layer_norm_eps is not read). */
export const LN_EPS = 1e-12;

let counter = 0;

export abstract class LxmertModule extends tfl.layers.Layer {
  /** Tensors this module made (not its children's). */
  private readonly owned: tf.Tensor[] = [];
  private readonly linears: LinearWeights[] = [];
  /** Sub-modules, in HF attribute order. */
  protected readonly children: LxmertModule[] = [];

  constructor(
    readonly config: LxmertConfig,
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

  private hfName(suffix: string): string {
    return this.prefix ? `${this.prefix}.${suffix}` : suffix;
  }

  /** Host values of `<prefix>.<suffix>`, checked against `shape`. */
  private host(suffix: string, shape: number[]): HostWeightData {
    const name = this.hfName(suffix);
    const data = this.source.get(name, shape);
    const n = hostValueCount(data);
    if (n !== shape.reduce((a, b) => a * b, 1)) {
      throw new WeightsError(`has ${n} values, the config wants ${formatShape(shape)}`, name);
    }
    return data;
  }

  /** Take ownership of a tensor derived from parameters (freed with the module). */
  protected own<T extends tf.Tensor>(t: T): T {
    this.owned.push(t);
    return t;
  }

  /** The host values of a vector parameter `<prefix>.<suffix>` of length n, as float32. */
  protected hostVector(suffix: string, n: number): Float32Array {
    return hostFloat32(this.host(suffix, [n]));
  }

  /** A float32 parameter at `<prefix>.<suffix>` (embeddings, LayerNorm, biases). */
  protected weight(suffix: string, shape: number[]): tf.Tensor {
    const t =
      this.source.takeTensor?.(this.hfName(suffix), shape) ??
      tf.tensor(hostFloat32(this.host(suffix, shape)), shape, 'float32');
    this.owned.push(t);
    return t;
  }

  /** A torch.nn.Linear at `<prefix>.<name>` (weight [out, in], bias [out]). */
  protected linear(name: string, inDim: number, outDim: number): LinearWeights {
    return this.linearConcat([name], inDim, outDim);
  }

  /** A Linear whose weight and bias live under other names (HF's MLM decoder + its bias). */
  protected linearNamed(
    weight: string,
    bias: string,
    inDim: number,
    outDim: number,
  ): LinearWeights {
    const host: HostLinear = {
      shape: [outDim, inDim],
      weight: this.host(weight, [outDim, inDim]),
      bias: hostFloat32(this.host(bias, [outDim])),
    };
    const lw = makeLinearWeights(host, this.source.linearFormat);
    this.linears.push(lw);
    return lw;
  }

  /**
   * Several Linear layers of the same input side by side, e.g. query, key and value as one
   * [3H, H] projection: their rows concatenated on the host, so one dense computes all three.
   */
  protected linearConcat(names: string[], inDim: number, outDim: number): LinearWeights {
    const made = this.source.takeLinear?.(
      names.map((n) => this.hfName(n)),
      [outDim * names.length, inDim],
    );
    if (made) {
      this.linears.push(made);
      return made;
    }
    const weights = names.map((n) => this.host(`${n}.weight`, [outDim, inDim]));
    const biases = names.map((n) => hostFloat32(this.host(`${n}.bias`, [outDim])));
    const host: HostLinear = {
      shape: [outDim * names.length, inDim],
      weight: concatRows(weights), // float16/int8 stay packed
      bias: hostFloat32(concatRows(biases)),
    };
    const lw = makeLinearWeights(host, this.source.linearFormat);
    this.linears.push(lw);
    return lw;
  }

  /**
   * A torch.nn.Embedding at `<prefix>.<suffix>` as a [rows, width] table for ops.gatherRows:
   * packed float16/int8 when Linear weights are (so embeddings stay compact on the GPU too),
   * else float32. Its bias is zeros (a tied decoder brings its own).
   */
  protected embedding(suffix: string, rows: number, width: number): LinearWeights {
    const format = this.source.linearFormat;
    if (format === 'f16' || format === 'int8') {
      const weight = this.host(suffix, [rows, width]);
      const lw = makeLinearWeights(
        { shape: [rows, width], weight, bias: new Float32Array(rows) },
        format,
      );
      this.linears.push(lw);
      return lw;
    }
    const bias = tf.zeros([rows]) as tf.Tensor1D;
    this.owned.push(bias);
    return { weight: this.weight(suffix, [rows, width]) as tf.Tensor2D, bias };
  }

  /** A torch.nn.LayerNorm at `<prefix>.<name>`. */
  protected layerNorm(name: string, dim: number): LayerNormWeights {
    return {
      gamma: this.weight(`${name}.weight`, [dim]) as tf.Tensor1D,
      beta: this.weight(`${name}.bias`, [dim]) as tf.Tensor1D,
    };
  }

  /** Every tensor of this module and its children. */
  deviceTensors(out: tf.Tensor[] = []): tf.Tensor[] {
    out.push(...this.owned);
    for (const l of this.linears) out.push(...linearTensors(l));
    for (const c of this.children) c.deviceTensors(out);
    return out;
  }

  /** Bytes of every parameter on the device (4 per stored float32/int32 element). */
  parameterBytes(): number {
    let bytes = this.owned.reduce((s, t) => s + t.size * 4, 0);
    for (const l of this.linears) bytes += linearWeightBytes(l); // GEMM-packed ones included
    for (const c of this.children) bytes += c.parameterBytes();
    return bytes;
  }

  /** Release every parameter of this module and its children (GPU buffers included). */
  override dispose(): { refCountAfterDispose: number; numDisposedVariables: number } {
    let n = 0;
    for (const c of this.children) n += c.dispose().numDisposedVariables;
    for (const l of this.linears) disposeLinearWeights(l);
    tf.dispose(this.owned);
    n += this.owned.length + this.linears.length;
    this.owned.length = 0;
    this.linears.length = 0;
    const r = super.dispose();
    return { refCountAfterDispose: r.refCountAfterDispose, numDisposedVariables: n };
  }

  /** What rebuilds this layer over the same weight source: its config and HF prefix. */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      prefix: this.prefix,
      config: { ...this.config } as unknown as tf.serialization.ConfigDict,
    };
  }
}
