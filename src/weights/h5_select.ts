/**
 * The TF-checkpoint half of weight selection: a `tf_model.h5` holds exactly the variables of
 * its Keras model, so a variable the config's class does not have means the file and the
 * config disagree (HF's TF loader reports them as unused). Missing, mis-shaped and non-float
 * variables are found by selectWeights like for any format. Browser-safe.
 */
import type { LxmertConfig } from '../config.js';
import { WeightsError, formatShape } from '../errors.js';
import { expectedWeights, type LxmertArchitecture } from '../model/weight_names.js';

/** Throw when the checkpoint has variables the class does not use (listing up to 10). */
export function checkNoExtraVariables(
  cfg: LxmertConfig,
  arch: LxmertArchitecture,
  entries: ReadonlyMap<string, { shape: number[] }>,
  source: string,
): void {
  const wanted = new Set(expectedWeights(cfg, arch).map((s) => s.name));
  const used = (name: string) =>
    wanted.has(name) ||
    (arch === 'LxmertModel' && name.startsWith('lxmert.') && wanted.has(name.slice(7)));
  const extra = [...entries].filter(([name]) => !used(name));
  if (extra.length) {
    throw new WeightsError(
      `${extra.length} variable(s) that ${arch} with this config does not have: ` +
        extra
          .slice(0, 10)
          .map(([n, e]) => `${n} ${formatShape(e.shape)}`)
          .join(', ') +
        (extra.length > 10 ? ', …' : '') +
        ' (does config.json belong to this tf_model.h5?)',
      source,
    );
  }
}
