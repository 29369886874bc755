/**
 * Character classes of Hugging Face's BERT tokenizer (`tokenization_bert.py` / `tokenization_utils.py`),
 * as regular expressions over code points. JS `\p{…}` with the `u` flag uses the same Unicode
 * general categories as Python's `unicodedata.category`.
 */

/**
 * `_clean_text` drops: U+0000, U+FFFD and `_is_control` (category C*: Cc, Cf, Cs, Co, Cn) except
 * tab, LF and CR. Lone surrogates are Cs, so they are dropped too.
 */
export const DROPPED_CHARS = /[\ufffd]|[^\P{C}\t\n\r]/gu;

/** `_clean_text` maps `_is_whitespace` (space, tab, LF, CR and category Zs) to a space. */
export const WHITESPACE_CHARS = /[\t\n\r\p{Zs}]/gu;

/**
 * `_is_chinese_char`: the CJK Unified Ideographs blocks exactly as HF lists them (slow tokenizer;
 * note U+2B820–U+2CEAF, where the Rust tokenizer starts at U+2B920).
 */
export const CJK_CHARS =
  /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2a6df}\u{2a700}-\u{2b73f}\u{2b740}-\u{2b81f}\u{2b820}-\u{2ceaf}\u{2f800}-\u{2fa1f}]/gu;

/**
 * Python's `str.split()` separators (`str.isspace`: category Zs or bidi class WS, B, S). After
 * `_clean_text` only space, U+2028 and U+2029 can remain, but the full set is listed.
 */
export const PY_WHITESPACE_RUN =
  // eslint-disable-next-line no-control-regex -- Python counts U+001C–U+001F as whitespace
  /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** `_is_punctuation`: ASCII 33–47, 58–64, 91–96, 123–126, or category P*. */
const PUNCT_CLASS = '[\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e\\p{P}]';

/** `_run_split_on_punc`: each punctuation character alone, runs of anything else together. */
export const PUNCT_SPLIT = new RegExp(`${PUNCT_CLASS}|(?:(?!${PUNCT_CLASS})[^])+`, 'gu');

/** Nonspacing marks (category Mn), removed by `_run_strip_accents` after NFD. */
export const NONSPACING_MARKS = /\p{Mn}/gu;

/** Text that the ASCII fast path can handle. */
// eslint-disable-next-line no-control-regex -- every ASCII character, controls included
export const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** Character classes of the ASCII fast path. */
export const ASCII_WORD = 0;
export const ASCII_SPACE = 1;
export const ASCII_PUNCT = 2;
export const ASCII_DROP = 3;

/** `ASCII_CLASS[c]` for c < 128, by the same rules as the regexes above. */
export const ASCII_CLASS: Uint8Array = (() => {
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) {
    if (c === 9 || c === 10 || c === 13 || c === 32) table[c] = ASCII_SPACE;
    else if (c < 32 || c === 127) table[c] = ASCII_DROP;
    else if (
      (c >= 33 && c <= 47) ||
      (c >= 58 && c <= 64) ||
      (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126)
    ) {
      table[c] = ASCII_PUNCT;
    } else table[c] = ASCII_WORD;
  }
  return table;
})();
