/**
 * Reading a Hugging Face `tokenizer.json` of a BERT WordPiece tokenizer (as `BertConverter`
 * writes it for lxmert-base-uncased): `model` (WordPiece vocab, unk token, max chars per word),
 * `normalizer` (BertNormalizer flags) and `added_tokens`.
 */
import { TokenizerError } from '../errors.js';
import { parseJsonGuarded } from '../json_guard.js';
import type { TokenizerOptions } from './types.js';
import { Vocab } from './vocab.js';

export interface ParsedTokenizerJson {
  vocab: Vocab;
  options: TokenizerOptions;
  /** Contents of the added tokens, split out of the text as they are (undefined: none listed). */
  specialTokens: string[] | undefined;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(message: string): never {
  throw new TokenizerError(`tokenizer.json: ${message}`);
}

export function parseTokenizerJson(json: string | object): ParsedTokenizerJson {
  // Guarded: a vocabulary listing one token twice, or deep nesting, is refused.
  const root: unknown = typeof json === 'string' ? parseJsonGuarded(json, fail) : json;
  if (!isObject(root)) fail('expected a JSON object');
  const model = root.model;
  if (!isObject(model)) fail('no "model" object');
  if (model.type !== undefined && model.type !== 'WordPiece') {
    fail(`model.type is ${JSON.stringify(model.type)}; only WordPiece is supported`);
  }
  if (model.unk_token !== undefined && model.unk_token !== '[UNK]') {
    fail(`model.unk_token is ${JSON.stringify(model.unk_token)}; expected "[UNK]"`);
  }
  if (model.continuing_subword_prefix !== undefined && model.continuing_subword_prefix !== '##') {
    fail(
      `model.continuing_subword_prefix is ${JSON.stringify(model.continuing_subword_prefix)}; expected "##"`,
    );
  }
  const vocab = Vocab.fromObject(model.vocab);
  const options: TokenizerOptions = {};
  if (typeof model.max_input_chars_per_word === 'number') {
    options.maxInputCharsPerWord = model.max_input_chars_per_word;
  }
  const norm = root.normalizer;
  if (norm !== undefined && norm !== null) {
    if (!isObject(norm) || norm.type !== 'BertNormalizer') {
      fail(
        `normalizer ${JSON.stringify(isObject(norm) ? norm.type : norm)} is not supported (BertNormalizer only)`,
      );
    }
    if (norm.clean_text === false) fail('normalizer.clean_text false is not supported');
    if (typeof norm.lowercase === 'boolean') options.lowercase = norm.lowercase;
    if (typeof norm.strip_accents === 'boolean' || norm.strip_accents === null) {
      options.stripAccents = norm.strip_accents;
    }
    if (typeof norm.handle_chinese_chars === 'boolean') {
      options.tokenizeChineseChars = norm.handle_chinese_chars;
    }
  }
  let specialTokens: string[] | undefined;
  if (root.added_tokens !== undefined) {
    specialTokens = [];
    if (!Array.isArray(root.added_tokens)) fail('added_tokens is not an array');
    for (const t of root.added_tokens as unknown[]) {
      if (!isObject(t) || typeof t.content !== 'string')
        fail('an added_tokens entry has no content');
      if (vocab.id(t.content) !== t.id) {
        fail(`added token ${JSON.stringify(t.content)} has id ${String(t.id)}, not its vocab id`);
      }
      specialTokens.push(t.content);
    }
  }
  return { vocab, options, specialTokens };
}

/**
 * Options from a Hugging Face `tokenizer_config.json`: `do_lower_case`, `strip_accents`,
 * `tokenize_chinese_chars` and `model_max_length` (ignored when it is HF's "unset" 1e30).
 */
export function parseTokenizerConfig(json: string | object): TokenizerOptions {
  const root: unknown =
    typeof json === 'string'
      ? parseJsonGuarded(json, (msg) => {
          throw new TokenizerError(`tokenizer_config.json: ${msg}`);
        })
      : json;
  if (!isObject(root)) throw new TokenizerError('tokenizer_config.json: expected a JSON object');
  const options: TokenizerOptions = {};
  if (typeof root.do_lower_case === 'boolean') options.lowercase = root.do_lower_case;
  if (typeof root.strip_accents === 'boolean' || root.strip_accents === null) {
    options.stripAccents = root.strip_accents;
  }
  if (typeof root.tokenize_chinese_chars === 'boolean') {
    options.tokenizeChineseChars = root.tokenize_chinese_chars;
  }
  const max = root.model_max_length;
  if (typeof max === 'number' && Number.isSafeInteger(max) && max > 0) options.modelMaxLength = max;
  return options;
}
