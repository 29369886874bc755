/**
 * The ASCII fast path of BasicTokenizer must split exactly as the general (HF step-by-step) path.
 * Random ASCII strings, controls and punctuation included; deterministic seed.
 */
import { expect, it } from 'vitest';
import { BasicTokenizer } from '../../src/tokenizer/basic.js';

it('splitAscii and splitUnicode agree on random ASCII text', () => {
  const basic = new BasicTokenizer();
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed % n;
  };
  const alphabet = 'aZ09 \t\n\r\x00\x07\x0b\x0c\x1c\x1f\x7f!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
  for (let n = 0; n < 20_000; n++) {
    let s = '';
    const len = rand(24);
    for (let i = 0; i < len; i++) s += alphabet[rand(alphabet.length)];
    const fast: string[] = [];
    const general: string[] = [];
    basic.splitAscii(s, fast);
    basic.splitUnicode(s, general);
    expect(fast, JSON.stringify(s)).toEqual(general);
  }
}, 20_000);
