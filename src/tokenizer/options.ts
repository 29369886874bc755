/** Validation of arguments and HF's rules for resolving truncation and padding settings. */
import { InputError } from '../errors.js';
import { limits } from '../limits.js';
import type { EncodeOptions, Padding, Truncation } from './types.js';

export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second' | 'none';
export type PaddingStrategy = 'max_length' | 'longest' | 'none';

export interface ResolvedOptions {
  truncation: TruncationStrategy;
  padding: PaddingStrategy;
  /** The length to truncate or pad to; set when truncation or `'max_length'` padding is on. */
  maxLength: number | undefined;
}

/** Describe a value for an error message. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return v.length > 40 ? `the string '${v.slice(0, 40)}…'` : `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

export function checkText(v: unknown, argument: string): string {
  if (typeof v !== 'string') throw new InputError(argument, 'a string', describe(v));
  return v;
}

export function checkPositiveInt(v: unknown, argument: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new InputError(argument, 'a positive integer', describe(v));
  }
  return v;
}

/**
 * HF's `_get_padding_truncation_strategies`: `truncation` unset + `maxLength` set + no padding
 * → `'longest_first'`; a strategy that needs a length and has none uses `modelMaxLength`.
 */
export function resolveOptions(
  options: EncodeOptions | undefined,
  modelMaxLength: number,
  defaultPadding: Padding = false,
): ResolvedOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InputError('options', 'an object', describe(options));
  }
  const { maxLength, truncation, padding } = options ?? {};
  if (maxLength !== undefined) checkPositiveInt(maxLength, 'maxLength');
  const pad = paddingStrategy(padding ?? defaultPadding);
  let trunc: TruncationStrategy;
  if (truncation === undefined) {
    trunc =
      maxLength !== undefined && (padding === undefined || padding === false)
        ? 'longest_first'
        : 'none';
  } else {
    trunc = truncationStrategy(truncation);
  }
  const needsLength = trunc !== 'none' || pad === 'max_length';
  const length = needsLength ? (maxLength ?? modelMaxLength) : maxLength;
  // Checked before anything is padded: a max_length of 1e9 would allocate gigabytes.
  const cap = limits().maxSequenceLength;
  if (length !== undefined && length > cap) {
    throw new InputError(
      maxLength !== undefined ? 'maxLength' : 'modelMaxLength',
      `at most ${cap} tokens (limit maxSequenceLength, see SECURITY.md)`,
      String(length),
    );
  }
  return { truncation: trunc, padding: pad, maxLength: length };
}

function truncationStrategy(t: Truncation): TruncationStrategy {
  if (t === true) return 'longest_first';
  if (t === false) return 'none';
  if (t === 'longest_first' || t === 'only_first' || t === 'only_second') return t;
  throw new InputError(
    'truncation',
    "'longest_first', 'only_first', 'only_second', true or false",
    describe(t),
  );
}

function paddingStrategy(p: Padding): PaddingStrategy {
  if (p === true) return 'longest';
  if (p === false) return 'none';
  if (p === 'max_length' || p === 'longest') return p;
  throw new InputError('padding', "'max_length', 'longest', true or false", describe(p));
}
