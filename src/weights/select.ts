/**
 * Pick, from a checkpoint's tensors, the ones an LXMERT class uses, in a fixed order, with one
 * error listing everything missing, mis-shaped or of a non-float dtype. Tied weights are
 * stored once; buffers and other extra tensors are ignored. Browser-safe.
 */
import type { LxmertConfig } from '../config.js';
import { WeightsError, formatShape } from '../errors.js';
import type { StDtype } from '../codec/raw_tensor.js';
import {
  checkWeights,
  expectedWeights,
  tiedWeights,
  type LxmertArchitecture,
} from '../model/weight_names.js';

const FLOAT_DTYPES: readonly StDtype[] = ['F32', 'F16', 'BF16', 'F64'];

export interface Selected<T> {
  /** HF name the model uses. */
  name: string;
  shape: number[];
  entry: T;
}

export interface Selection<T> {
  /** Weights to store, in expectedWeights order, tied names left out. */
  weights: Selected<T>[];
  /** `{tied name: stored name}` for the tied names left out. */
  tied: Record<string, string>;
}

/**
 * Select the weights of `arch`. `entries` are the checkpoint's tensors by name; an
 * `LxmertModel` config also finds its weights under the `lxmert.` prefix that the head classes
 * save them with (as HF's base_model_prefix handling does).
 */
export function selectWeights<T extends { dtype: StDtype; shape: number[] }>(
  cfg: LxmertConfig,
  arch: LxmertArchitecture,
  entries: ReadonlyMap<string, T>,
  source: string,
): Selection<T> {
  const specs = expectedWeights(cfg, arch);
  const lookup = (name: string): T | undefined =>
    entries.get(name) ?? (arch === 'LxmertModel' ? entries.get(`lxmert.${name}`) : undefined);
  const resolved = new Map<string, T>();
  for (const s of specs) {
    const e = lookup(s.name);
    if (e) resolved.set(s.name, e);
  }
  checkWeights(cfg, arch, resolved, source);
  const badDtype = [...resolved]
    .filter(([, e]) => !FLOAT_DTYPES.includes(e.dtype))
    .map(([n, e]) => `${n} (${e.dtype} ${formatShape(e.shape)})`);
  if (badDtype.length) {
    throw new WeightsError(
      `${badDtype.length} weight(s) are not floating point: ${badDtype.join(', ')}`,
      source,
    );
  }
  const names = new Set(specs.map((s) => s.name));
  const tied: Record<string, string> = {};
  const weights: Selected<T>[] = [];
  for (const s of specs) {
    const twin = tiedWeights(cfg)[s.name];
    if (twin && names.has(twin)) {
      tied[s.name] = twin;
      continue;
    }
    weights.push({ name: s.name, shape: s.shape, entry: resolved.get(s.name)! });
  }
  return { weights, tied };
}

/** Whether the class has an answer head (so answer labels apply). */
export function hasQaHead(cfg: LxmertConfig, arch: LxmertArchitecture): boolean {
  return arch === 'LxmertForQuestionAnswering' || (arch === 'LxmertForPreTraining' && cfg.taskQa);
}
