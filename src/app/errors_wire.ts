/**
 * Errors across the worker boundary: structured clone keeps only `message` (and turns our
 * classes into plain Errors), so they travel as {name, message, fields} and are rebuilt here
 * as the same class with the same message and fields.
 */
import {
  BackendError,
  ConfigError,
  InputError,
  LxmertError,
  TokenizerError,
  UsageError,
  WeightsError,
} from '../errors.js';

export interface WireError {
  name: string;
  message: string;
  /** The class's own fields (InputError.argument, WeightsError.where …). */
  fields: Record<string, string>;
  stack?: string;
}

const CLASSES: Record<string, new (...args: never[]) => Error> = {
  LxmertError,
  InputError,
  ConfigError,
  WeightsError,
  BackendError,
  TokenizerError,
  UsageError,
};

const FIELDS = ['argument', 'expected', 'actual', 'field', 'where'] as const;

export function toWire(e: unknown): WireError {
  if (e instanceof Error || (e instanceof Object && 'message' in e)) {
    const err = e as Error & Record<string, unknown>;
    const fields: Record<string, string> = {};
    for (const f of FIELDS) if (typeof err[f] === 'string') fields[f] = err[f] as string;
    const out: WireError = { name: err.name || 'Error', message: String(err.message), fields };
    if (typeof err.stack === 'string') out.stack = err.stack;
    return out;
  }
  return { name: 'Error', message: String(e), fields: {} };
}

/** The error as the caller would have seen it without the worker. */
export function fromWire(w: WireError): Error {
  if (w.name === 'AbortError' || w.name === 'TimeoutError') {
    return new DOMException(w.message, w.name);
  }
  const cls = CLASSES[w.name];
  const e: Error = cls ? Object.create(cls.prototype) : new Error(w.message);
  Object.assign(e, { name: w.name, message: w.message, ...w.fields });
  if (w.stack) e.stack = w.stack;
  return e;
}
