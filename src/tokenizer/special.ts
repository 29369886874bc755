/**
 * Splitting special tokens out of the text before basic tokenization, as `PreTrainedTokenizer`
 * does with its `tokens_trie`: a literal `[MASK]` (case-sensitive) anywhere in the text, even inside
 * a word (`hello[MASK]world`), is one token; `[mask]` is ordinary text.
 */

export class SpecialTokenSplitter {
  private readonly tokens: readonly string[];

  constructor(tokens: Iterable<string>) {
    // Longest first, so that at one position the longest token wins.
    this.tokens = [...new Set(tokens)].filter((t) => t !== '').sort((a, b) => b.length - a.length);
  }

  /**
   * Call `onText` for each stretch of ordinary text and `onSpecial` for each special token, in
   * order. Leftmost match first; at equal positions the longest token.
   */
  split(text: string, onText: (text: string) => void, onSpecial: (token: string) => void): void {
    const tokens = this.tokens;
    // Next occurrence of each token at or after `pos` (-1: none left).
    const next = tokens.map((t) => text.indexOf(t));
    let pos = 0;
    for (;;) {
      let best = -1;
      let bestAt = Infinity;
      for (let k = 0; k < tokens.length; k++) {
        let at = next[k] as number;
        if (at >= 0 && at < pos) {
          at = text.indexOf(tokens[k] as string, pos);
          next[k] = at;
        }
        if (at >= 0 && at < bestAt) {
          best = k;
          bestAt = at;
        }
      }
      if (best < 0) break;
      const token = tokens[best] as string;
      if (bestAt > pos) onText(text.slice(pos, bestAt));
      onSpecial(token);
      pos = bestAt + token.length;
    }
    if (pos < text.length) onText(pos === 0 ? text : text.slice(pos));
  }
}
