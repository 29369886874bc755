/**
 * The limits on untrusted input, in one place (see SECURITY.md). Every reader checks its
 * limit *before* allocating or doing the expensive work, and a refusal is a one-line typed
 * error naming the file and the limit to raise. Browser-safe.
 *
 * Change them for a process with `setLimits({ maxRegions: 200 })`, or for the CLI with the
 * environment variable `LXMERT_LIMITS` (a JSON object of the same keys), e.g.
 * `LXMERT_LIMITS='{"maxConfigBytes": 16777216}' lxmert convert …`.
 */
import { InputError } from './errors.js';

export interface Limits {
  /** config.json, tokenizer_config.json and other small JSON files (bytes). */
  maxConfigBytes: number;
  /** A sharded checkpoint's `*.index.json` and a converted model's `model.json` (bytes). */
  maxIndexBytes: number;
  /** vocab.txt, tokenizer.json, a labels file (bytes). */
  maxVocabBytes: number;
  /** An `infer --inputs` safetensors file (bytes; read whole). */
  maxInputsBytes: number;
  /** A safetensors header (bytes; safetensors' own limit is 100 MB). */
  maxSafetensorsHeaderBytes: number;
  /** A pickle read into memory: a zip `data.pkl` or a legacy header (bytes). */
  maxPickleBytes: number;
  /** Inflated size over compressed size of a deflated zip entry. */
  maxInflateRatio: number;
  /** Elements of a strided (non-contiguous) view over the storage elements it spans. */
  maxViewExpansion: number;
  /** Objects and arrays nested inside each other in any JSON we parse. */
  maxJsonDepth: number;
  /** Sequence length (tokenizer max_length, input_ids length) when no model bounds it. */
  maxSequenceLength: number;
  /** Image regions (boxes) per image: inputs files, obj36 lines. */
  maxRegions: number;
  /** Characters of one added (special) token of a tokenizer.json. */
  maxSpecialTokenChars: number;
  /** One line of `lxmert tokenize`'s stdin (bytes). */
  maxLineBytes: number;
}

const DEFAULTS: Readonly<Limits> = Object.freeze({
  maxConfigBytes: 4 << 20,
  maxIndexBytes: 64 << 20,
  maxVocabBytes: 64 << 20,
  maxInputsBytes: 256 << 20,
  maxSafetensorsHeaderBytes: 100_000_000,
  maxPickleBytes: 64 << 20,
  maxInflateRatio: 200,
  maxViewExpansion: 16,
  maxJsonDepth: 64,
  maxSequenceLength: 4096,
  maxRegions: 1024,
  maxSpecialTokenChars: 256,
  maxLineBytes: 16 << 20,
});

let current: Limits = { ...DEFAULTS };

/** The limits in force (a read-only view; change them with setLimits). */
export function limits(): Readonly<Limits> {
  return current;
}

/** The built-in limits. */
export function defaultLimits(): Readonly<Limits> {
  return DEFAULTS;
}

/** Change some limits for this process; each must be a positive safe integer. */
export function setLimits(changes: Partial<Limits>): Readonly<Limits> {
  if (typeof changes !== 'object' || changes === null) {
    throw new InputError('limits', 'an object of limit names and values', String(changes));
  }
  const next = { ...current };
  for (const [k, v] of Object.entries(changes)) {
    if (!(k in DEFAULTS)) {
      throw new InputError('limits', `one of ${Object.keys(DEFAULTS).join(', ')}`, `'${k}'`);
    }
    if (!Number.isSafeInteger(v) || (v as number) <= 0) {
      throw new InputError(`limits.${k}`, 'a positive integer', JSON.stringify(v));
    }
    next[k as keyof Limits] = v as number;
  }
  current = next;
  return current;
}

/** Restore the built-in limits. */
export function resetLimits(): void {
  current = { ...DEFAULTS };
}

/** Apply `LXMERT_LIMITS` (a JSON object of limit names and values), when set. */
export function applyLimitsEnv(text: string | undefined): void {
  if (text === undefined || text.trim() === '') return;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(
      'LXMERT_LIMITS',
      'a JSON object',
      `invalid JSON (${(e as Error).message})`,
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InputError('LXMERT_LIMITS', 'a JSON object', text.slice(0, 60));
  }
  setLimits(json as Partial<Limits>);
}
