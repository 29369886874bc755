/** `--from pt|tf`: which weights of a Hugging Face folder or Hub repo that has both to read. */
import { UsageError } from '../errors.js';
import type { WeightsFramework } from '../weights/reader.js';

export const FROM_HELP = `  --from pt|tf                   weights to read when there are both PyTorch and TF ones
                                 (default pt; a folder or repo with only tf_model.h5 is read
                                 either way)`;

export function fromOption(value: unknown): WeightsFramework | undefined {
  if (value === undefined) return undefined;
  if (value !== 'pt' && value !== 'tf')
    throw new UsageError(`--from: expected pt or tf, got '${String(value)}'`);
  return value;
}
