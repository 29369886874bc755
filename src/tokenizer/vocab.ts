/**
 * WordPiece vocabularies: `vocab.txt` (one token per line, line N = id N, as HF's `load_vocab`)
 * and the `model.vocab` of a Hugging Face `tokenizer.json`.
 */
import { TokenizerError } from '../errors.js';

export class Vocab {
  /** Token → id. */
  readonly tokenToId: ReadonlyMap<string, number>;
  /** Id → token, `undefined` where no token has that id. */
  private readonly idToToken: readonly (string | undefined)[];

  constructor(tokenToId: Map<string, number>) {
    this.tokenToId = tokenToId;
    const ids: (string | undefined)[] = [];
    for (const [token, id] of tokenToId) ids[id] = token;
    this.idToToken = ids;
  }

  /** Number of distinct tokens (HF's `vocab_size`). */
  get size(): number {
    return this.tokenToId.size;
  }

  id(token: string): number | undefined {
    return this.tokenToId.get(token);
  }

  token(id: number): string | undefined {
    return this.idToToken[id];
  }

  /**
   * Parse `vocab.txt`. Lines end in LF, CRLF or CR (Python's universal newlines); a repeated
   * token keeps its last line number, as in HF's `load_vocab`.
   */
  static fromText(text: string): Vocab {
    if (typeof text !== 'string') {
      throw new TokenizerError(`vocab.txt: expected the file's text, got ${typeof text}`);
    }
    const lines = text.split(/\r\n|\r|\n/);
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    const map = new Map<string, number>();
    lines.forEach((token, i) => map.set(token, i));
    if (map.size === 0) throw new TokenizerError('vocab.txt: the vocabulary is empty');
    return new Vocab(map);
  }

  /** Read `model.vocab` (an object token → id) of a parsed `tokenizer.json`. */
  static fromObject(vocab: unknown, where = 'tokenizer.json model.vocab'): Vocab {
    if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
      throw new TokenizerError(`${where}: expected an object of token → id`);
    }
    const map = new Map<string, number>();
    for (const [token, id] of Object.entries(vocab)) {
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
        throw new TokenizerError(
          `${where}: id of ${JSON.stringify(token)} is not a non-negative integer`,
        );
      }
      map.set(token, id);
    }
    if (map.size === 0) throw new TokenizerError(`${where}: the vocabulary is empty`);
    return new Vocab(map);
  }
}
