/**
 * Hugging Face's `WordpieceTokenizer`: greedy longest-match-first over a word's code points,
 * continuation pieces prefixed with `##`; a word longer than `maxInputCharsPerWord` code points,
 * or one that cannot be covered by vocabulary pieces, becomes the unknown token. Results are cached
 * per word (a bounded cache; the output does not depend on it).
 */
import type { Vocab } from './vocab.js';

const CACHE_LIMIT = 50_000;

export interface WordPieceOptions {
  unkId: number;
  /** `max_input_chars_per_word`, 100 for BERT. */
  maxInputCharsPerWord: number;
  /** `continuing_subword_prefix`, `##` for BERT. */
  prefix: string;
}

export class WordPiece {
  private readonly cache = new Map<string, readonly number[]>();
  /** No vocabulary entry is longer than this many code points. */
  private readonly maxTokenChars: number;

  constructor(
    private readonly vocab: Vocab,
    private readonly options: Readonly<WordPieceOptions>,
  ) {
    let max = 0;
    for (const token of vocab.tokenToId.keys()) {
      const n = codePointLength(token);
      if (n > max) max = n;
    }
    this.maxTokenChars = max;
  }

  /** Append the ids of `word` (no whitespace in it) to `out`. */
  encode(word: string, out: number[]): void {
    let ids = this.cache.get(word);
    if (ids === undefined) {
      ids = this.pieces(word);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(word, ids);
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i] as number);
  }

  private pieces(word: string): number[] {
    const { unkId, maxInputCharsPerWord, prefix } = this.options;
    // UTF-16 offset of each code point, plus the end; null when every code point is one unit.
    const offsets = hasSurrogates(word) ? codePointOffsets(word) : null;
    const n = offsets ? offsets.length - 1 : word.length;
    if (n > maxInputCharsPerWord) return [unkId];
    const at = (k: number): number => (offsets ? (offsets[k] as number) : k);
    const map = this.vocab.tokenToId;
    const out: number[] = [];
    let start = 0;
    while (start < n) {
      let end = Math.min(n, start + this.maxTokenChars);
      let found: number | undefined;
      while (start < end) {
        const sub = word.slice(at(start), at(end));
        found = map.get(start > 0 ? prefix + sub : sub);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return [unkId];
      out.push(found);
      start = end;
    }
    return out;
  }
}

function hasSurrogates(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
  }
  return false;
}

function codePointOffsets(s: string): number[] {
  const offsets: number[] = [];
  let i = 0;
  for (const ch of s) {
    offsets.push(i);
    i += ch.length;
  }
  offsets.push(i);
  return offsets;
}

function codePointLength(s: string): number {
  return hasSurrogates(s) ? Array.from(s).length : s.length;
}
