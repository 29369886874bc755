/**
 * HF's `truncate_sequences` (slow tokenizer, truncation from the right). Where HF would log an
 * error and return a sequence longer than `maxLength`, this throws.
 */
import { TokenizerError } from '../errors.js';
import type { TruncationStrategy } from './options.js';

/**
 * Truncate `ids` / `pair` so that, with `specials` special tokens, they fit in `maxLength`.
 * Returns the kept lengths.
 */
export function truncatedLengths(
  len1: number,
  len2: number | null,
  specials: number,
  maxLength: number,
  strategy: TruncationStrategy,
): [number, number] {
  const pairLen = len2 ?? 0;
  const remove = len1 + pairLen + specials - maxLength;
  if (strategy === 'none' || remove <= 0) return [len1, pairLen];
  const fail = (why: string): never => {
    throw new TokenizerError(
      `cannot truncate to maxLength ${maxLength} with '${strategy}': ${why} ` +
        `(sequence lengths ${len2 === null ? len1 : `${len1} + ${len2}`} plus ${specials} special tokens)`,
    );
  };
  if (strategy === 'only_first' || (strategy === 'longest_first' && len2 === null)) {
    // HF keeps at least one token of the truncated sequence: it needs len > remove.
    if (len1 > remove) return [len1 - remove, pairLen];
    return fail(
      `${remove} tokens must go but the first sequence has ${len1} and keeps at least one`,
    );
  }
  if (strategy === 'only_second') {
    if (len2 === null) return fail('there is no second sequence to truncate');
    if (len2 > remove) return [len1, len2 - remove];
    return fail(
      `${remove} tokens must go but the second sequence has ${len2} and keeps at least one`,
    );
  }
  // longest_first on a pair: one token at a time from the longer one, from the second on ties.
  if (remove > len1 + pairLen) return fail(`only the ${specials} special tokens already need more`);
  let a = len1;
  let b = pairLen;
  // Equalize first, then alternate: same result as HF's loop without a step per token.
  let r = remove;
  const diff = Math.min(Math.abs(a - b), r);
  if (a > b) a -= diff;
  else b -= diff;
  r -= diff;
  b -= Math.ceil(r / 2);
  a -= Math.floor(r / 2);
  return [a, b];
}
