/**
 * Hugging Face's `BasicTokenizer` (slow BERT tokenizer): clean text, isolate CJK ideographs, NFC,
 * split on whitespace, lower-case and strip accents, split off punctuation. It also does the
 * lower-casing that `PreTrainedTokenizer.tokenize` applies to non-special text (one character at
 * a time, so a capital sigma always becomes `σ`, never the final form `ς`).
 */
import {
  ASCII_CLASS,
  ASCII_ONLY,
  ASCII_PUNCT,
  ASCII_SPACE,
  ASCII_WORD,
  CJK_CHARS,
  DROPPED_CHARS,
  NONSPACING_MARKS,
  PUNCT_SPLIT,
  PY_WHITESPACE_RUN,
  WHITESPACE_CHARS,
} from './unicode.js';

/** Normalization settings, as in HF's `BertTokenizer` / `BertNormalizer`. */
export interface BasicTokenizerOptions {
  /** Lower-case the text (`do_lower_case`). Default true. */
  lowercase: boolean;
  /** Strip accents; `null` means "strip when lower-casing" (HF's default). */
  stripAccents: boolean | null;
  /** Put spaces around CJK ideographs (`tokenize_chinese_chars`). Default true. */
  tokenizeChineseChars: boolean;
}

export const DEFAULT_BASIC_OPTIONS: Readonly<BasicTokenizerOptions> = Object.freeze({
  lowercase: true,
  stripAccents: null,
  tokenizeChineseChars: true,
});

/** Lower-case one code point at a time, as Python's `c.lower()` per character does. */
export function lowerPerChar(text: string): string {
  // JS toLowerCase has one context rule (Final_Sigma), which per-character lowering never applies.
  return (text.includes('\u03a3') ? text.replace(/\u03a3/g, '\u03c3') : text).toLowerCase();
}

/** ASCII control characters other than tab, LF and CR (`_clean_text` drops them). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ASCII_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ASCII_CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;

export class BasicTokenizer {
  private readonly lowercase: boolean;
  private readonly strip: boolean;
  private readonly cjk: boolean;

  constructor(options: Readonly<BasicTokenizerOptions> = DEFAULT_BASIC_OPTIONS) {
    this.lowercase = options.lowercase;
    this.strip = options.stripAccents ?? options.lowercase;
    this.cjk = options.tokenizeChineseChars;
  }

  /** Append the words of `text` (text without special tokens) to `out`. */
  split(text: string, out: string[]): void {
    if (ASCII_ONLY.test(text)) this.splitAscii(text, out);
    else this.splitUnicode(text, out);
  }

  /** The general path, step by step as HF does it. */
  splitUnicode(text: string, out: string[]): void {
    let t = this.lowercase ? lowerPerChar(text) : text;
    t = t.replace(DROPPED_CHARS, '').replace(WHITESPACE_CHARS, ' ');
    if (this.cjk) t = t.replace(CJK_CHARS, ' $& ');
    t = t.normalize('NFC');
    for (let word of t.split(PY_WHITESPACE_RUN)) {
      if (word === '') continue;
      if (this.strip) word = word.normalize('NFD').replace(NONSPACING_MARKS, '');
      const pieces = word.match(PUNCT_SPLIT);
      if (pieces) for (const p of pieces) out.push(p);
    }
  }

  /** Same result for ASCII text, in one scan: no accents, no CJK, NFC is the identity. */
  splitAscii(text: string, out: string[]): void {
    let t = this.lowercase ? text.toLowerCase() : text;
    if (ASCII_CONTROL.test(t)) t = t.replace(ASCII_CONTROLS, '');
    const n = t.length;
    let i = 0;
    while (i < n) {
      const cls = ASCII_CLASS[t.charCodeAt(i)];
      if (cls === ASCII_SPACE) {
        i++;
      } else if (cls === ASCII_PUNCT) {
        out.push(t[i] as string);
        i++;
      } else {
        const start = i;
        i++;
        while (i < n && ASCII_CLASS[t.charCodeAt(i)] === ASCII_WORD) i++;
        out.push(t.slice(start, i));
      }
    }
  }
}
