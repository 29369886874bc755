/* global console, URL */
// Special-token splitting with a tokenizer.json that lists its whole vocabulary (30,522 entries)
// as added tokens (issue 12, class 6): time per text length, for the trie splitter we ship and for
// the earlier splitter (indexOf of every token at every match), in the same process.
// Run after `npm run build`:  node bench/special_tokens.mjs
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { SpecialTokenSplitter } from '../dist/src/tokenizer/special.js';

const lines = readFileSync(new URL('../data/bert-base-uncased-vocab.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l !== '');

/** The splitter before issue 12: every token's next occurrence, for every match. */
function oldSplit(tokens, text, onText, onSpecial) {
  tokens = [...new Set(tokens)].filter((t) => t !== '').sort((a, b) => b.length - a.length);
  const next = tokens.map((t) => text.indexOf(t));
  let pos = 0;
  for (;;) {
    let best = -1;
    let bestAt = Infinity;
    for (let k = 0; k < tokens.length; k++) {
      let at = next[k];
      if (at >= 0 && at < pos) next[k] = at = text.indexOf(tokens[k], pos);
      if (at >= 0 && at < bestAt) [best, bestAt] = [k, at];
    }
    if (best < 0) break;
    if (bestAt > pos) onText(text.slice(pos, bestAt));
    onSpecial(tokens[best]);
    pos = bestAt + tokens[best].length;
  }
  if (pos < text.length) onText(text.slice(pos));
}

const trie = new SpecialTokenSplitter(lines);
const noop = () => undefined;
const unit = 'what color is the cat on the mat? ';
console.log('chars   trie_ms  old_ms');
for (const reps of [30, 100, 300, 1000, 3000]) {
  const text = unit.repeat(reps);
  let t0 = performance.now();
  trie.split(text, noop, noop);
  const tTrie = performance.now() - t0;
  let tOld = NaN;
  if (reps <= 1000) {
    t0 = performance.now();
    oldSplit(lines, text, noop, noop);
    tOld = performance.now() - t0;
  }
  console.log(
    `${String(text.length).padEnd(7)} ${tTrie.toFixed(1).padStart(7)} ${tOld.toFixed(0).padStart(7)}`,
  );
}
