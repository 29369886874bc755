/**
 * LxmertTokenizer: Hugging Face's slow `LxmertTokenizer` / `BertTokenizer` (BERT WordPiece,
 * uncased) in TypeScript. Browser-safe: it takes the vocabulary as text or parsed JSON; Node file
 * loaders are in `node.ts`.
 */
import { InputError, TokenizerError } from '../errors.js';
import { assemble, assembledLength, type SpecialIds, type Truncated } from './assemble.js';
import { BasicTokenizer } from './basic.js';
import {
  checkPositiveInt,
  checkText,
  describe,
  resolveOptions,
  type TruncationStrategy,
} from './options.js';
import { SpecialTokenSplitter } from './special.js';
import { parseTokenizerJson } from './tokenizer_json.js';
import { truncatedLengths } from './truncate.js';
import type {
  BatchEncoding,
  DecodeOptions,
  EncodeOptions,
  Encoding,
  TokenizerOptions,
} from './types.js';
import { Vocab } from './vocab.js';
import { WordPiece } from './wordpiece.js';

/** BERT's special tokens. */
export const SPECIAL_TOKENS = Object.freeze({
  unk: '[UNK]',
  cls: '[CLS]',
  sep: '[SEP]',
  pad: '[PAD]',
  mask: '[MASK]',
});

export class LxmertTokenizer {
  readonly vocab: Vocab;
  readonly unkTokenId: number;
  readonly clsTokenId: number;
  readonly sepTokenId: number;
  readonly padTokenId: number;
  /** `undefined` when the vocabulary has no `[MASK]`. */
  readonly maskTokenId: number | undefined;
  readonly modelMaxLength: number;
  private readonly basic: BasicTokenizer;
  private readonly wordPiece: WordPiece;
  private readonly splitter: SpecialTokenSplitter;
  private readonly specialIds: ReadonlySet<number>;
  private readonly specialIdsForAssembly: SpecialIds;

  /**
   * @param vocab the WordPiece vocabulary; it must hold `[UNK]`, `[CLS]`, `[SEP]` and `[PAD]`.
   * @param specialTokens tokens split out of the text as they are (default: the BERT special tokens
   *   the vocabulary holds).
   */
  constructor(vocab: Vocab, options: TokenizerOptions = {}, specialTokens?: Iterable<string>) {
    if (!(vocab instanceof Vocab)) throw new InputError('vocab', 'a Vocab', describe(vocab));
    this.vocab = vocab;
    const missing = ['unk', 'cls', 'sep', 'pad'] as const;
    const absent = missing.filter((k) => vocab.id(SPECIAL_TOKENS[k]) === undefined);
    if (absent.length > 0) {
      throw new TokenizerError(
        `the vocabulary lacks ${absent.map((k) => SPECIAL_TOKENS[k]).join(', ')} ` +
          `(a BERT vocabulary needs [UNK], [CLS], [SEP] and [PAD])`,
      );
    }
    this.unkTokenId = vocab.id(SPECIAL_TOKENS.unk) as number;
    this.clsTokenId = vocab.id(SPECIAL_TOKENS.cls) as number;
    this.sepTokenId = vocab.id(SPECIAL_TOKENS.sep) as number;
    this.padTokenId = vocab.id(SPECIAL_TOKENS.pad) as number;
    this.maskTokenId = vocab.id(SPECIAL_TOKENS.mask);
    this.specialIdsForAssembly = {
      cls: this.clsTokenId,
      sep: this.sepTokenId,
      pad: this.padTokenId,
    };
    this.modelMaxLength = checkPositiveInt(options.modelMaxLength ?? 512, 'modelMaxLength');
    this.basic = new BasicTokenizer({
      lowercase: options.lowercase ?? true,
      stripAccents: options.stripAccents ?? null,
      tokenizeChineseChars: options.tokenizeChineseChars ?? true,
    });
    this.wordPiece = new WordPiece(vocab, {
      unkId: this.unkTokenId,
      maxInputCharsPerWord: checkPositiveInt(
        options.maxInputCharsPerWord ?? 100,
        'maxInputCharsPerWord',
      ),
      prefix: '##',
    });
    const specials = [...(specialTokens ?? Object.values(SPECIAL_TOKENS))].filter(
      (t) => vocab.id(t) !== undefined,
    );
    this.splitter = new SpecialTokenSplitter(specials);
    this.specialIds = new Set(specials.map((t) => vocab.id(t) as number));
  }

  /** From the text of a `vocab.txt` (one token per line, line N = id N). */
  static fromVocabText(text: string, options?: TokenizerOptions): LxmertTokenizer {
    return new LxmertTokenizer(Vocab.fromText(text), options);
  }

  /**
   * From a Hugging Face `tokenizer.json` (its text or the parsed object): WordPiece vocabulary,
   * BertNormalizer settings and special added tokens. `options` override what the file says.
   */
  static fromTokenizerJson(json: string | object, options: TokenizerOptions = {}): LxmertTokenizer {
    const parsed = parseTokenizerJson(json);
    return new LxmertTokenizer(
      parsed.vocab,
      { ...parsed.options, ...options },
      parsed.specialTokens,
    );
  }

  /** Vocabulary size (number of distinct tokens). */
  get vocabSize(): number {
    return this.vocab.size;
  }

  /** The ids of `text` without special tokens added (HF's `tokenize` + `convert_tokens_to_ids`). */
  textToIds(text: string): number[] {
    checkText(text, 'text');
    const out: number[] = [];
    const words: string[] = [];
    this.splitter.split(
      text,
      (chunk) => {
        words.length = 0;
        this.basic.split(chunk, words);
        for (const w of words) this.wordPiece.encode(w, out);
      },
      (special) => out.push(this.vocab.id(special) as number),
    );
    return out;
  }

  /** The WordPiece tokens of `text`, without special tokens added (HF's `tokenize`). */
  tokenize(text: string): string[] {
    return this.convertIdsToTokens(this.textToIds(text));
  }

  /**
   * Encode a text or a text pair as HF's `tokenizer(text, text_pair, ...)`:
   * `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]`, truncated and padded on the right.
   * Throws TokenizerError when truncation cannot reach `maxLength`.
   */
  encode(text: string, textPair?: string | null, options?: EncodeOptions): Encoding {
    const opts = resolveOptions(options, this.modelMaxLength);
    const t = this.truncated(text, textPair, opts.truncation, opts.maxLength, 'text', 'textPair');
    const padTo = opts.padding === 'max_length' ? (opts.maxLength as number) : 0;
    return assemble(t, padTo, this.specialIdsForAssembly);
  }

  /**
   * Encode a batch; `textPairs`, when given, pairs with `texts` one to one. Padding defaults to
   * `'longest'`, so every row has the same length.
   */
  encodeBatch(
    texts: readonly string[],
    textPairs?: readonly string[] | null,
    options?: EncodeOptions,
  ): BatchEncoding {
    if (!Array.isArray(texts))
      throw new InputError('texts', 'an array of strings', describe(texts));
    if (textPairs != null) {
      if (!Array.isArray(textPairs) || textPairs.length !== texts.length) {
        throw new InputError(
          'textPairs',
          `an array of ${texts.length} strings (one per text)`,
          describe(textPairs),
        );
      }
    }
    const opts = resolveOptions(options, this.modelMaxLength, 'longest');
    const rows = texts.map((t, i) => {
      try {
        return this.truncated(
          t,
          textPairs?.[i],
          opts.truncation,
          opts.maxLength,
          `texts[${i}]`,
          `textPairs[${i}]`,
        );
      } catch (e) {
        if (e instanceof TokenizerError) throw new TokenizerError(`texts[${i}]: ${e.message}`);
        throw e;
      }
    });
    let padTo = 0;
    if (opts.padding === 'max_length') padTo = opts.maxLength as number;
    else if (opts.padding === 'longest')
      for (const r of rows) padTo = Math.max(padTo, assembledLength(r));
    const batch: BatchEncoding = { inputIds: [], tokenTypeIds: [], attentionMask: [] };
    for (const r of rows) {
      const enc = assemble(r, padTo, this.specialIdsForAssembly);
      batch.inputIds.push(enc.inputIds);
      batch.tokenTypeIds.push(enc.tokenTypeIds);
      batch.attentionMask.push(enc.attentionMask);
    }
    return batch;
  }

  /** Tokens of ids; an id outside the vocabulary gives `[UNK]`, as HF's `convert_ids_to_tokens`. */
  convertIdsToTokens(ids: readonly number[], skipSpecialTokens = false): string[] {
    if (!Array.isArray(ids)) throw new InputError('ids', 'an array of integers', describe(ids));
    const out: string[] = [];
    ids.forEach((id, i) => {
      if (typeof id !== 'number' || !Number.isInteger(id)) {
        throw new InputError(`ids[${i}]`, 'an integer', describe(id));
      }
      if (skipSpecialTokens && this.specialIds.has(id)) return;
      out.push(this.vocab.token(id) ?? SPECIAL_TOKENS.unk);
    });
    return out;
  }

  /** Ids of tokens; a token outside the vocabulary gives the `[UNK]` id. */
  convertTokensToIds(tokens: readonly string[]): number[] {
    if (!Array.isArray(tokens))
      throw new InputError('tokens', 'an array of strings', describe(tokens));
    return tokens.map((t, i) => this.vocab.id(checkText(t, `tokens[${i}]`)) ?? this.unkTokenId);
  }

  /**
   * Text of ids, as HF's slow `decode`: tokens joined by spaces, `##` continuations glued on,
   * then (by default) HF's `clean_up_tokenization`.
   */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const tokens = this.convertIdsToTokens(ids, options.skipSpecialTokens ?? false);
    const text = tokens.join(' ').replaceAll(' ##', '').trim();
    return (options.cleanUpTokenizationSpaces ?? true) ? cleanUpTokenization(text) : text;
  }

  /** Ids of the text (and pair) and how many of each truncation keeps. */
  private truncated(
    text: unknown,
    textPair: unknown,
    truncation: TruncationStrategy,
    maxLength: number | undefined,
    textArg: string,
    pairArg: string,
  ): Truncated {
    const a = this.textToIds(checkText(text, textArg));
    const b = textPair == null ? null : this.textToIds(checkText(textPair, pairArg));
    if (maxLength === undefined) return { a, keepA: a.length, b, keepB: b?.length ?? 0 };
    const specials = b === null ? 2 : 3;
    const [keepA, keepB] = truncatedLengths(
      a.length,
      b?.length ?? null,
      specials,
      maxLength,
      truncation,
    );
    return { a, keepA, b, keepB };
  }
}

/** HF's `PreTrainedTokenizerBase.clean_up_tokenization`. */
export function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}
