/** Option parsing shared by the subcommands (node:util parseArgs with UsageError on misuse). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parse `argv` against `options`; unknown options and missing values become a UsageError that
 * names the option. Returns string/boolean values and positionals.
 */
export function parseOptions(
  command: string,
  argv: string[],
  options: Options,
  allowPositionals = false,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      allowPositionals,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    throw new UsageError(
      `${(e as Error).message.replace(/\.$/, '')} (see 'lxmert ${command} --help')`,
    );
  }
}

/** A required string option. */
export function required(values: Record<string, unknown>, name: string, command: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') {
    throw new UsageError(`--${name} is required (see 'lxmert ${command} --help')`);
  }
  return v;
}

/** An integer option ≥ `min` with a default; anything else is a UsageError naming it. */
function intOption(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  min: 0 | 1,
): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) {
    const what = min === 1 ? 'a positive integer' : 'a non-negative integer';
    throw new UsageError(`--${name}: expected ${what}, got '${String(v)}'`);
  }
  return n;
}

/** A positive integer option with a default. */
export function positiveInt(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
): number {
  return intOption(values, name, fallback, 1);
}

/** A non-negative integer option with a default. */
export function nonNegativeInt(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
): number {
  return intOption(values, name, fallback, 0);
}
