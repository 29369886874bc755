/**
 * Bad input: a defined result or a clear error, never a hang. Every test has a time bound.
 */
import { describe, expect, it } from 'vitest';
import { InputError, TokenizerError } from '../../src/errors.js';
import { LxmertTokenizer, Vocab } from '../../src/tokenizer/index.js';
import { GOLDEN, VOCAB_TEXT, defaultTokenizer, timed, type GoldenEntry } from './helpers.js';

const tok = defaultTokenizer();
const BOUND = 5_000;
const MB = 1 << 20;

const golden = (text: string): GoldenEntry =>
  GOLDEN.find((g) => g.text === text && g.text_pair === undefined) as GoldenEntry;

describe('non-string input', () => {
  it(
    'encode / tokenize / encodeBatch reject non-strings with InputError',
    () => {
      for (const v of [42, null, undefined, ['a'], { text: 'a' }, true, Symbol('s')]) {
        expect(() => tok.encode(v as unknown as string)).toThrow(InputError);
        expect(() => tok.tokenize(v as unknown as string)).toThrow(InputError);
      }
      expect(() => tok.encode('a', 5 as unknown as string)).toThrow(/textPair: expected a string/);
      expect(() => tok.encodeBatch('abc' as unknown as string[])).toThrow(InputError);
      expect(() => tok.encodeBatch(['a', 7 as unknown as string])).toThrow(/texts\[1\]/);
      expect(() => tok.encodeBatch(['a', 'b'], ['x'])).toThrow(/textPairs: expected an array of 2/);
    },
    BOUND,
  );

  it(
    'bad options are InputErrors',
    () => {
      for (const maxLength of [0, -1, 1.5, NaN, Infinity, '20']) {
        expect(() => tok.encode('a', null, { maxLength: maxLength as number })).toThrow(
          /maxLength/,
        );
      }
      expect(() => tok.encode('a', null, { truncation: 'left' as 'only_first' })).toThrow(
        /truncation/,
      );
      expect(() => tok.encode('a', null, { padding: 'right' as 'longest' })).toThrow(/padding/);
      expect(() => tok.encode('a', null, 'x' as unknown as object)).toThrow(/options/);
      expect(() => tok.convertIdsToTokens([1.5])).toThrow(/ids\[0\]: expected an integer/);
      expect(() => tok.decode('101' as unknown as number[])).toThrow(InputError);
    },
    BOUND,
  );
});

describe('lone surrogates', () => {
  it(
    'are dropped, as HF drops category Cs in _clean_text',
    () => {
      const cat = golden('What color is the cat?');
      for (const text of [
        'What color\ud800 is the cat?',
        '\udc00What color is the cat?\ud83d',
        'What co\udfffl\ud800or is the cat?',
      ]) {
        expect(tok.encode(text).inputIds, JSON.stringify(text)).toEqual(cat.ids);
      }
      expect(tok.encode('\ud800\udc00\udc00').inputIds).toEqual([101, 100, 102]); // U+10000 + lone
      expect(tok.encode('\ud800').inputIds).toEqual(golden('').ids);
    },
    BOUND,
  );
});

describe('a 1 MB string', () => {
  const cases: [string, string][] = [
    ['a repeated question', 'What color is the cat? '.repeat(MB / 23)],
    ['one word without spaces', 'a'.repeat(MB)],
    ['all punctuation', '?!.,'.repeat(MB / 4)],
    ['repeated [MASK]', '[MASK]'.repeat(MB / 6)],
    ['unclosed brackets', '[MAS'.repeat(MB / 4)],
    ['CJK and emoji', '\u4e2d\u6587\ud83c\udf55 caf\u00e9 '.repeat(MB / 10)],
    ['combining marks', 'e\u0301'.repeat(MB / 2)],
    ['control characters', '\u0000\u0007\u200b'.repeat(MB / 3)],
  ];
  for (const [name, text] of cases) {
    it(
      `${name}: encodes in bounded time, and truncates to 20`,
      () => {
        const { result, ms } = timed(() => tok.encode(text));
        expect(ms).toBeLessThan(BOUND);
        expect(result.inputIds[0]).toBe(101);
        expect(result.inputIds.at(-1)).toBe(102);
        const short = tok.encode(text, text, {
          maxLength: 20,
          truncation: true,
          padding: 'max_length',
        });
        expect(short.inputIds).toHaveLength(20);
      },
      BOUND * 3,
    );
  }

  it(
    'a long word (>100 characters) is one [UNK]',
    () => {
      expect(tok.encode('a'.repeat(MB)).inputIds).toEqual([101, 100, 102]);
    },
    BOUND,
  );

  it(
    'repeated questions give the golden ids repeated',
    () => {
      const cat = golden('What color is the cat?').ids.slice(1, -1);
      const n = 40_000;
      const ids = tok.textToIds('What color is the cat? '.repeat(n));
      expect(ids).toHaveLength(cat.length * n);
      expect(ids.slice(0, cat.length * 3)).toEqual([...cat, ...cat, ...cat]);
      expect(ids.slice(-cat.length)).toEqual(cat);
    },
    BOUND,
  );
});

describe('vocabularies', () => {
  const without = (token: string): string =>
    VOCAB_TEXT.split('\n')
      .map((t) => (t === token ? '[not-special]' : t))
      .join('\n');

  for (const token of ['[UNK]', '[CLS]', '[SEP]', '[PAD]']) {
    it(
      `a vocab without ${token} is a TokenizerError naming it`,
      () => {
        expect(() => LxmertTokenizer.fromVocabText(without(token))).toThrow(TokenizerError);
        expect(() => LxmertTokenizer.fromVocabText(without(token))).toThrow(
          new RegExp(`lacks .*\\${token.slice(0, -1)}\\]`),
        );
      },
      BOUND,
    );
  }

  it(
    'an empty or non-text vocab is a TokenizerError',
    () => {
      expect(() => LxmertTokenizer.fromVocabText('')).toThrow(/vocabulary is empty/);
      expect(() => LxmertTokenizer.fromVocabText('hello\n')).toThrow(/lacks \[UNK\], \[CLS\]/);
      expect(() => LxmertTokenizer.fromVocabText(3 as unknown as string)).toThrow(TokenizerError);
    },
    BOUND,
  );

  it(
    'a vocab without [MASK] still works; [MASK] in the text is then plain text',
    () => {
      const t = LxmertTokenizer.fromVocabText(without('[MASK]'));
      expect(t.maskTokenId).toBeUndefined();
      expect(t.tokenize('a [MASK]')).toEqual(['a', '[', 'mask', ']']);
    },
    BOUND,
  );

  it(
    'vocab.txt with CRLF or CR line ends gives the same ids (Python universal newlines)',
    () => {
      for (const eol of ['\r\n', '\r']) {
        const v = Vocab.fromText(VOCAB_TEXT.replaceAll('\n', eol));
        expect(v.size).toBe(30522);
        expect(v.id('the')).toBe(1996);
        expect(v.id('[SEP]')).toBe(102);
      }
    },
    BOUND,
  );

  it(
    'a repeated token keeps its last line, as HF load_vocab',
    () => {
      const v = Vocab.fromText('a\nb\na\n');
      expect(v.id('a')).toBe(2);
      expect(v.token(0)).toBeUndefined();
      expect(v.token(2)).toBe('a');
    },
    BOUND,
  );

  it(
    'a malformed tokenizer.json is a TokenizerError',
    () => {
      const bad: unknown[] = [
        '{not json',
        '[]',
        '{}',
        { model: { type: 'BPE', vocab: {} } },
        { model: { type: 'WordPiece', vocab: [] } },
        { model: { type: 'WordPiece', vocab: { a: -1 } } },
        { model: { type: 'WordPiece', vocab: { a: 0 } }, normalizer: { type: 'Sequence' } },
        { model: { type: 'WordPiece', vocab: { a: 0 } }, added_tokens: [{ id: 5, content: 'a' }] },
      ];
      for (const json of bad) {
        expect(
          () => LxmertTokenizer.fromTokenizerJson(json as object),
          JSON.stringify(json),
        ).toThrow(TokenizerError);
      }
    },
    BOUND,
  );
});
