/**
 * LxmertTokenizer (BERT WordPiece, uncased), identical to Hugging Face's slow tokenizer.
 * Browser-safe; the Node file loaders are in `./node.js`.
 */
export { LxmertTokenizer, SPECIAL_TOKENS, cleanUpTokenization } from './tokenizer.js';
export { Vocab } from './vocab.js';
export { parseTokenizerConfig, parseTokenizerJson } from './tokenizer_json.js';
export type { ParsedTokenizerJson } from './tokenizer_json.js';
export type {
  BatchEncoding,
  DecodeOptions,
  EncodeOptions,
  Encoding,
  Padding,
  TokenizerOptions,
  Truncation,
} from './types.js';
