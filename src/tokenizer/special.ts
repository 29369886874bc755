/**
 * Splitting special tokens out of the text before basic tokenization, as `PreTrainedTokenizer`
 * does with its `tokens_trie`: a literal `[MASK]` (case-sensitive) anywhere in the text, even inside
 * a word (`hello[MASK]world`), is one token; `[mask]` is ordinary text.
 *
 * A trie of the tokens, walked from each position: linear in the text (times the longest
 * token, at most `limits().maxSpecialTokenChars`) however many tokens there are, so a
 * tokenizer.json listing its whole vocabulary as added tokens stays fast.
 */
import { TokenizerError } from '../errors.js';
import { limits } from '../limits.js';

interface TrieNode {
  next: Map<string, TrieNode>;
  /** Set when a token ends here. */
  token?: string;
}

export class SpecialTokenSplitter {
  private readonly root: TrieNode = { next: new Map() };
  private readonly empty: boolean;
  /** 1 for each UTF-16 code unit a token starts with: most positions are skipped by this. */
  private readonly starts = new Uint8Array(65536);

  constructor(tokens: Iterable<string>) {
    const max = limits().maxSpecialTokenChars;
    let count = 0;
    for (const t of new Set(tokens)) {
      if (t === '') continue;
      if (t.length > max) {
        throw new TokenizerError(
          `special token of ${t.length} characters ('${t.slice(0, 20)}…'), more than the ${max} ` +
            'allowed (limit maxSpecialTokenChars)',
        );
      }
      let node = this.root;
      for (const ch of splitUnits(t)) {
        let child = node.next.get(ch);
        if (!child) {
          child = { next: new Map() };
          node.next.set(ch, child);
        }
        node = child;
      }
      node.token = t;
      this.starts[t.charCodeAt(0)] = 1;
      count++;
    }
    this.empty = count === 0;
  }

  /**
   * Call `onText` for each stretch of ordinary text and `onSpecial` for each special token, in
   * order. Leftmost match first; at equal positions the longest token.
   */
  split(text: string, onText: (text: string) => void, onSpecial: (token: string) => void): void {
    let textStart = 0;
    let pos = 0;
    if (!this.empty) {
      const n = text.length;
      const starts = this.starts;
      while (pos < n) {
        if (starts[text.charCodeAt(pos)] === 0) {
          pos++;
          continue;
        }
        let node = this.root.next.get(text[pos]);
        let match: string | undefined;
        for (let j = pos + 1; node; j++) {
          if (node.token !== undefined) match = node.token;
          if (j >= n) break;
          node = node.next.get(text[j]);
        }
        if (match === undefined) {
          pos++;
          continue;
        }
        if (pos > textStart) onText(text.slice(textStart, pos));
        onSpecial(match);
        pos += match.length;
        textStart = pos;
      }
    }
    if (textStart < text.length) onText(textStart === 0 ? text : text.slice(textStart));
  }
}

/** UTF-16 code units (as String.prototype.indexOf matches). */
function splitUnits(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) out.push(s[i]);
  return out;
}
