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

/** A positive integer option with a default. */
export function positiveInt(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`--${name}: expected a positive integer, got '${String(v)}'`);
  }
  return n;
}

/** A non-negative integer option with a default. */
export function nonNegativeInt(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
): number {
  const v = values[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`--${name}: expected a non-negative integer, got '${String(v)}'`);
  }
  return Number(v);
}
