/**
 * Truncation, padding, HF's option defaults and decode. Expectations are golden.json entries,
 * cut or padded by HF's rules (`truncate_sequences`, right padding, `clean_up_tokenization`).
 */
import { describe, expect, it } from 'vitest';
import { TokenizerError } from '../../src/errors.js';
import { GOLDEN, PAIRS, SINGLES, defaultTokenizer, type GoldenEntry } from './helpers.js';

const tok = defaultTokenizer();
const CLS = 101;
const SEP = 102;

function find(text: string, pair?: string): GoldenEntry {
  const e = GOLDEN.find(
    (g) => g.text === text && g.text_pair === pair && g.max_length === undefined,
  );
  if (!e) throw new Error(`no golden entry for ${text}`);
  return e;
}

/** The A and B ids of an untruncated golden pair entry. */
function parts(e: GoldenEntry): { a: number[]; b: number[] } {
  const sep = e.ids.indexOf(SEP);
  return { a: e.ids.slice(1, sep), b: e.ids.slice(sep + 1, -1) };
}

/** HF's `truncate_sequences` loop for `longest_first` on a pair, one token at a time. */
function hfLongestFirst(la: number, lb: number, remove: number): [number, number] {
  for (let i = 0; i < remove; i++) {
    if (la > lb) la--;
    else if (lb > 0) lb--;
  }
  return [la, lb];
}

const pair = find('Who is holding the umbrella?', PAIRS[3]?.text_pair);
const { a: A, b: B } = parts(pair);

describe('truncation', () => {
  it('the pair used here is 6 + 15 tokens', () => {
    expect([A.length, B.length]).toEqual([6, 15]);
  });

  it("'longest_first' on a pair removes from the longer, from the second on ties", () => {
    for (let max = 3; max <= A.length + B.length + 3; max++) {
      const remove = Math.max(0, A.length + B.length + 3 - max);
      const [ka, kb] = hfLongestFirst(A.length, B.length, remove);
      const enc = tok.encode(pair.text, pair.text_pair, {
        maxLength: max,
        truncation: 'longest_first',
      });
      expect(enc.inputIds, `max ${max}`).toEqual([
        CLS,
        ...A.slice(0, ka),
        SEP,
        ...B.slice(0, kb),
        SEP,
      ]);
      expect(enc.tokenTypeIds).toEqual([
        ...new Array(ka + 2).fill(0),
        ...new Array(kb + 1).fill(1),
      ]);
    }
  });

  it("'only_second' cuts the second sequence only", () => {
    const enc = tok.encode(pair.text, pair.text_pair, { maxLength: 15, truncation: 'only_second' });
    expect(enc.inputIds).toEqual([CLS, ...A, SEP, ...B.slice(0, 6), SEP]);
  });

  it("'only_first' cuts the first sequence only", () => {
    const enc = tok.encode(pair.text, pair.text_pair, { maxLength: 22, truncation: 'only_first' });
    expect(enc.inputIds).toEqual([CLS, ...A.slice(0, 4), SEP, ...B, SEP]);
  });

  it('true means longest_first, false means none', () => {
    const e = GOLDEN.find(
      (g) => g.description === '40-word question truncated to 20',
    ) as GoldenEntry;
    expect(tok.encode(e.text, null, { maxLength: 20, truncation: true }).inputIds).toEqual(e.ids);
    const full = tok.encode(e.text, null, { maxLength: 20, truncation: false }).inputIds;
    expect(full.length).toBeGreaterThan(20);
    expect(full.slice(0, 19)).toEqual(e.ids.slice(0, 19));
  });

  it("HF's default: maxLength without truncation or padding truncates (longest_first)", () => {
    const e = GOLDEN.find(
      (g) => g.description === '40-word question truncated to 20',
    ) as GoldenEntry;
    expect(tok.encode(e.text, null, { maxLength: 20 }).inputIds).toEqual(e.ids);
  });

  it("HF's default: maxLength with padding but no truncation does not truncate", () => {
    const e = GOLDEN.find(
      (g) => g.description === '40-word question truncated to 20',
    ) as GoldenEntry;
    const enc = tok.encode(e.text, null, { maxLength: 20, padding: 'max_length' });
    expect(enc.inputIds.length).toBeGreaterThan(20);
    expect(enc.attentionMask.every((m) => m === 1)).toBe(true);
  });

  it('truncation without maxLength uses modelMaxLength (512)', () => {
    const long = 'cat '.repeat(600);
    expect(tok.encode(long, null, { truncation: true }).inputIds).toHaveLength(512);
    expect(tok.modelMaxLength).toBe(512);
  });

  it('a sequence that fits is left alone', () => {
    const e = find('What color is the cat?');
    expect(
      tok.encode(e.text, null, { maxLength: e.ids.length, truncation: 'only_first' }).inputIds,
    ).toEqual(e.ids);
  });

  it('impossible truncation is a TokenizerError, never an over-long result', () => {
    const cases: [string, string | null, number, 'longest_first' | 'only_first' | 'only_second'][] =
      [
        ['What color is the cat?', null, 1, 'longest_first'],
        ['What color is the cat?', null, 2, 'longest_first'], // HF keeps at least one token
        ['', null, 1, 'longest_first'],
        [pair.text, pair.text_pair as string, 2, 'longest_first'],
        [pair.text, pair.text_pair as string, 10, 'only_first'],
        [pair.text, pair.text_pair as string, 9, 'only_second'],
        ['What color is the cat?', null, 3, 'only_second'],
      ];
    for (const [a, b, maxLength, truncation] of cases) {
      expect(
        () => tok.encode(a, b, { maxLength, truncation }),
        `${maxLength} ${truncation}`,
      ).toThrow(TokenizerError);
    }
    expect(() => tok.encode('What color is the cat?', null, { maxLength: 1 })).toThrow(
      /cannot truncate to maxLength 1/,
    );
  });
});

describe('padding', () => {
  const e = find('What color is the cat?');

  it("'max_length' pads on the right with [PAD]=0, token type 0, attention 0", () => {
    const enc = tok.encode(e.text, null, { maxLength: 12, padding: 'max_length' });
    expect(enc.inputIds).toEqual([...e.ids, 0, 0, 0, 0]);
    expect(enc.tokenTypeIds).toEqual(new Array(12).fill(0));
    expect(enc.attentionMask).toEqual([...e.attention_mask, 0, 0, 0, 0]);
  });

  it("'max_length' without maxLength pads to modelMaxLength", () => {
    expect(tok.encode(e.text, null, { padding: 'max_length' }).inputIds).toHaveLength(512);
  });

  it("'longest' / true / false do not pad a single encode", () => {
    for (const padding of ['longest', true, false] as const) {
      expect(tok.encode(e.text, null, { padding }).inputIds).toEqual(e.ids);
    }
  });

  it('encodeBatch pads to the longest by default and truncates with maxLength', () => {
    const texts = SINGLES.slice(0, 10).map((g) => g.text);
    const batch = tok.encodeBatch(texts, null, { maxLength: 9 });
    expect(batch.inputIds.every((r) => r.length === 9)).toBe(true);
    SINGLES.slice(0, 10).forEach((g, i) => {
      const n = Math.min(g.ids.length, 9);
      const row = g.ids.length <= 9 ? g.ids : [...g.ids.slice(0, 8), SEP];
      expect(batch.inputIds[i]).toEqual([...row, ...new Array(9 - n).fill(0)]);
    });
    const unpadded = tok.encodeBatch(texts, null, { padding: false });
    expect(unpadded.inputIds).toEqual(SINGLES.slice(0, 10).map((g) => g.ids));
    expect(tok.encodeBatch([]).inputIds).toEqual([]);
  });
});

describe('decode', () => {
  it('joins tokens, glues ## pieces, cleans up spaces as HF does', () => {
    const ids = find('What color is the cat?').ids;
    expect(tok.decode(ids)).toBe('[CLS] what color is the cat? [SEP]');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('what color is the cat?');
    const punct = find("Hello, world! How's it going?").ids;
    expect(tok.decode(punct, { skipSpecialTokens: true })).toBe("hello, world! how's it going?");
    expect(tok.decode(punct, { skipSpecialTokens: true, cleanUpTokenizationSpaces: false })).toBe(
      "hello , world ! how ' s it going ?",
    );
    expect(tok.decode(find('\u00c5ngstr\u00f6m').ids, { skipSpecialTokens: true })).toBe(
      'angstrom',
    );
  });

  it('skipSpecialTokens drops [PAD], [UNK] and [MASK] too', () => {
    const e = GOLDEN.find((g) => g.description === 'short question padded to 20') as GoldenEntry;
    expect(tok.decode(e.ids, { skipSpecialTokens: true })).toBe('what color is the cat?');
    expect(tok.decode([7592, 103, 100, 2088], { skipSpecialTokens: true })).toBe('hello world');
  });

  it('convertIdsToTokens: ids outside the vocabulary give [UNK]', () => {
    expect(tok.convertIdsToTokens([101, -1, 30522, 1e9, 102])).toEqual([
      '[CLS]',
      '[UNK]',
      '[UNK]',
      '[UNK]',
      '[SEP]',
    ]);
    expect(tok.convertTokensToIds(['what', 'no-such-token'])).toEqual([2054, 100]);
    expect(tok.vocabSize).toBe(30522);
  });
});
