/** Shared fixtures of the tokenizer tests: the golden file and the bundled vocabulary. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LxmertTokenizer } from '../../src/tokenizer/index.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const VOCAB_PATH = `${ROOT}data/bert-base-uncased-vocab.txt`;
export const VOCAB_TEXT = readFileSync(VOCAB_PATH, 'utf8');
const FIXTURES = `${ROOT}test/fixtures/tokenizer/`;

/** One entry of test/fixtures/tokenizer/golden.json (see its README.md). */
export interface GoldenEntry {
  category: string;
  description?: string;
  text: string;
  text_pair?: string;
  tokens: string[];
  ids: number[];
  token_type_ids: number[];
  attention_mask: number[];
  max_length?: number;
  truncation?: 'longest_first';
  padding?: 'max_length';
  fast_differs?: boolean;
}

export interface FastDiffEntry {
  text: string;
  text_pair?: string;
  max_length?: number;
  slow: { tokens: string[]; ids: number[]; token_type_ids: number[]; attention_mask: number[] };
}

export const GOLDEN: GoldenEntry[] = JSON.parse(readFileSync(`${FIXTURES}golden.json`, 'utf8'));
export const FAST_DIFF: FastDiffEntry[] = JSON.parse(
  readFileSync(`${FIXTURES}golden-fast-diff.json`, 'utf8'),
);

/** Golden entries without truncation or padding, single texts. */
export const SINGLES = GOLDEN.filter(
  (e) => e.text_pair === undefined && e.max_length === undefined,
);
/** Golden entries without truncation or padding, pairs. */
export const PAIRS = GOLDEN.filter((e) => e.text_pair !== undefined && e.max_length === undefined);

export function defaultTokenizer(): LxmertTokenizer {
  return LxmertTokenizer.fromVocabText(VOCAB_TEXT);
}

/** A tokenizer.json as transformers' BertConverter writes it for this vocabulary. */
export function tokenizerJsonFor(vocabText: string): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  vocabText
    .split('\n')
    .slice(0, -1)
    .forEach((t, i) => (vocab[t] = i));
  const special = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((content) => ({
      id: vocab[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: { type: 'TemplateProcessing' },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/** Run `fn` and return its result with the milliseconds it took. */
export function timed<T>(fn: () => T): { result: T; ms: number } {
  const t0 = performance.now();
  const result = fn();
  return { result, ms: performance.now() - t0 };
}
