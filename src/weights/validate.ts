/** Check a weight map against what a model class needs: one error listing every problem. */
import type { LxmertConfig } from '../config.js';
import { WeightsError, formatShape } from '../errors.js';
import {
  expectedWeights,
  TIED_WEIGHTS,
  tiedWeights,
  type LxmertArchitecture,
} from '../model/weight_names.js';
import type { RawTensor } from '../codec/raw_tensor.js';

/** Something with a shape, a host RawTensor or a manifest entry. */
export interface Shaped {
  shape: readonly number[];
}

/**
 * Throws one WeightsError naming every missing or mis-shaped tensor. A tied weight may be
 * absent (it is then taken from its twin). Extra tensors are ignored.
 */
export function checkWeights(
  cfg: LxmertConfig,
  arch: LxmertArchitecture,
  weights: ReadonlyMap<string, Shaped>,
  source: string,
): void {
  const missing: string[] = [];
  const misshaped: string[] = [];
  for (const spec of expectedWeights(cfg, arch)) {
    const t = weights.get(spec.name);
    if (!t) {
      const twin = tiedWeights(cfg)[spec.name];
      if (twin && weights.has(twin)) continue;
      missing.push(spec.name);
      continue;
    }
    const same =
      t.shape.length === spec.shape.length && t.shape.every((d, i) => d === spec.shape[i]);
    if (!same)
      misshaped.push(
        `${spec.name} ${formatShape(t.shape)} (config wants ${formatShape(spec.shape)})`,
      );
  }
  if (missing.length || misshaped.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`${missing.length} missing: ${missing.join(', ')}`);
    if (misshaped.length) parts.push(`${misshaped.length} mis-shaped: ${misshaped.join(', ')}`);
    throw new WeightsError(`weights do not match the ${arch} config; ${parts.join('; ')}`, source);
  }
}

/** Resolve a tensor by HF name, following the config's tied-weight aliases. */
export function getWeight(
  weights: ReadonlyMap<string, RawTensor>,
  name: string,
  tied: Readonly<Record<string, string>> = TIED_WEIGHTS,
): RawTensor | undefined {
  return weights.get(name) ?? (tied[name] ? weights.get(tied[name]) : undefined);
}
