/** Public types of the tokenizer. */

/** HF's truncation strategies; `true` means `'longest_first'`, `false` no truncation. */
export type Truncation = 'longest_first' | 'only_first' | 'only_second' | boolean;

/** HF's padding strategies; `true` means `'longest'`, `false` no padding. Padding is on the right. */
export type Padding = 'max_length' | 'longest' | boolean;

export interface EncodeOptions {
  /**
   * Maximum length in tokens, special tokens included. Used by truncation and by
   * `padding: 'max_length'`; when those need it and it is not given, `modelMaxLength` (512).
   */
  maxLength?: number;
  /**
   * As in HF: when it is not given, it is `'longest_first'` if `maxLength` is given and padding is
   * not, and no truncation otherwise.
   */
  truncation?: Truncation;
  /** Default: no padding for `encode`, `'longest'` for `encodeBatch`. */
  padding?: Padding;
}

/** One encoded sequence (or pair): `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`, then padding. */
export interface Encoding {
  inputIds: number[];
  /** 0 for `[CLS] A [SEP]`, 1 for `B [SEP]`, 0 for padding. */
  tokenTypeIds: number[];
  /** 1 for tokens, 0 for padding. */
  attentionMask: number[];
}

/** A batch: one row per input, all rows the same length when padded. */
export interface BatchEncoding {
  inputIds: number[][];
  tokenTypeIds: number[][];
  attentionMask: number[][];
}

export interface DecodeOptions {
  /** Leave out `[CLS]`, `[SEP]`, `[PAD]`, `[UNK]`, `[MASK]`. Default false. */
  skipSpecialTokens?: boolean;
  /** HF's `clean_up_tokenization` (`" ?"` → `"?"`, `" ' "` → `"'"`, …). Default true, as BERT's. */
  cleanUpTokenizationSpaces?: boolean;
}

/** How a tokenizer normalizes and splits text; the defaults are those of lxmert-base-uncased. */
export interface TokenizerOptions {
  /** `do_lower_case`. Default true. */
  lowercase?: boolean;
  /** `strip_accents`; `null` (default) strips accents when lower-casing. */
  stripAccents?: boolean | null;
  /** `tokenize_chinese_chars`. Default true. */
  tokenizeChineseChars?: boolean;
  /** `max_input_chars_per_word`. Default 100. */
  maxInputCharsPerWord?: number;
  /** `model_max_length`: the `maxLength` used when truncation or padding needs one. Default 512. */
  modelMaxLength?: number;
}
