/**
 * Parity with Hugging Face's slow BertTokenizer on every entry of
 * test/fixtures/tokenizer/golden.json (and the `slow` side of golden-fast-diff.json).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LxmertTokenizer } from '../../src/tokenizer/index.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { toInt32 } from '../../src/codec/raw_tensor.js';
import {
  FAST_DIFF,
  GOLDEN,
  PAIRS,
  ROOT,
  SINGLES,
  VOCAB_TEXT,
  defaultTokenizer,
  tokenizerJsonFor,
  type GoldenEntry,
} from './helpers.js';

const fromVocab = defaultTokenizer();
const fromJson = LxmertTokenizer.fromTokenizerJson(JSON.stringify(tokenizerJsonFor(VOCAB_TEXT)));

function encodeEntry(tok: LxmertTokenizer, e: GoldenEntry) {
  const options =
    e.max_length === undefined
      ? undefined
      : { maxLength: e.max_length, truncation: e.truncation, padding: e.padding };
  return tok.encode(e.text, e.text_pair, options);
}

const label = (e: GoldenEntry, i: number): string =>
  `#${i} ${e.category}: ${JSON.stringify(e.text).slice(0, 60)}` +
  (e.text_pair === undefined ? '' : ` + ${JSON.stringify(e.text_pair).slice(0, 30)}`);

describe('golden.json', () => {
  it('has the 76 entries its README describes', () => {
    expect(GOLDEN).toHaveLength(76);
    expect(SINGLES).toHaveLength(66);
    expect(PAIRS).toHaveLength(5);
    expect(GOLDEN.filter((e) => e.fast_differs)).toHaveLength(2);
  });

  for (const [name, tok] of [
    ['vocab.txt', fromVocab],
    ['tokenizer.json', fromJson],
  ] as const) {
    describe(`from ${name}`, () => {
      GOLDEN.forEach((e, i) => {
        it(label(e, i), () => {
          const enc = encodeEntry(tok, e);
          expect(enc.inputIds).toEqual(e.ids);
          expect(enc.tokenTypeIds).toEqual(e.token_type_ids);
          expect(enc.attentionMask).toEqual(e.attention_mask);
          expect(tok.convertIdsToTokens(enc.inputIds)).toEqual(e.tokens);
        });
      });
    });
  }

  it('tokenize() gives the tokens between [CLS] and [SEP]', () => {
    for (const e of SINGLES) {
      expect(fromVocab.tokenize(e.text), e.text).toEqual(e.tokens.slice(1, -1));
      expect(fromVocab.textToIds(e.text), e.text).toEqual(e.ids.slice(1, -1));
    }
  });

  it('convertTokensToIds() maps the golden tokens to the golden ids', () => {
    for (const e of GOLDEN) expect(fromVocab.convertTokensToIds(e.tokens)).toEqual(e.ids);
  });

  it('encodeBatch() pads every single text to the longest', () => {
    const batch = fromVocab.encodeBatch(SINGLES.map((e) => e.text));
    const longest = Math.max(...SINGLES.map((e) => e.ids.length));
    SINGLES.forEach((e, i) => {
      const pad = longest - e.ids.length;
      expect(batch.inputIds[i]).toEqual([...e.ids, ...new Array(pad).fill(0)]);
      expect(batch.tokenTypeIds[i]).toEqual([...e.token_type_ids, ...new Array(pad).fill(0)]);
      expect(batch.attentionMask[i]).toEqual([...e.attention_mask, ...new Array(pad).fill(0)]);
    });
  });

  it('encodeBatch() of pairs and of the truncation/padding entries', () => {
    const batch = fromVocab.encodeBatch(
      PAIRS.map((e) => e.text),
      PAIRS.map((e) => e.text_pair as string),
      { padding: false },
    );
    expect(batch.inputIds).toEqual(PAIRS.map((e) => e.ids));
    expect(batch.tokenTypeIds).toEqual(PAIRS.map((e) => e.token_type_ids));
    const tp = GOLDEN.filter((e) => e.category === 'truncation_padding' && !e.text_pair);
    const b2 = fromVocab.encodeBatch(
      tp.map((e) => e.text),
      null,
      { maxLength: 20, truncation: 'longest_first', padding: 'max_length' },
    );
    expect(b2.inputIds).toEqual(tp.map((e) => e.ids));
    expect(b2.attentionMask).toEqual(tp.map((e) => e.attention_mask));
  });
});

describe('golden-fast-diff.json: the slow (Python) behaviour', () => {
  for (const e of FAST_DIFF) {
    it(JSON.stringify(e.text).slice(0, 50), () => {
      const options = e.max_length
        ? {
            maxLength: e.max_length,
            truncation: 'longest_first' as const,
            padding: 'max_length' as const,
          }
        : undefined;
      const enc = fromVocab.encode(e.text, e.text_pair, options);
      expect(enc.inputIds).toEqual(e.slow.ids);
      expect(enc.tokenTypeIds).toEqual(e.slow.token_type_ids);
      expect(enc.attentionMask).toEqual(e.slow.attention_mask);
      expect(fromVocab.convertIdsToTokens(enc.inputIds)).toEqual(e.slow.tokens);
    });
  }
});

describe('lxmert-vqa-tiny fixture (questions tokenized by HF, max_length 20)', () => {
  const dir = `${ROOT}test/fixtures/lxmert-vqa-tiny/`;
  const cases: { cases: { name: string; question?: string; tokens?: string[] }[] } = JSON.parse(
    readFileSync(`${dir}cases.json`, 'utf8'),
  );
  const golden = readSafetensors(new Uint8Array(readFileSync(`${dir}golden.safetensors`)));
  const tok = LxmertTokenizer.fromVocabText(readFileSync(`${dir}vocab.txt`, 'utf8'));
  for (const c of cases.cases.filter((c) => c.question !== undefined)) {
    it(c.name, () => {
      const enc = tok.encode(c.question as string, null, {
        maxLength: 20,
        truncation: true,
        padding: 'max_length',
      });
      expect(tok.convertIdsToTokens(enc.inputIds)).toEqual(c.tokens);
      const ids = golden.get(`${c.name}/input_ids`);
      const mask = golden.get(`${c.name}/attention_mask`);
      const types = golden.get(`${c.name}/token_type_ids`);
      expect(ids && mask && types).toBeTruthy();
      expect(Array.from(toInt32(ids!))).toEqual(enc.inputIds);
      expect(Array.from(toInt32(mask!))).toEqual(enc.attentionMask);
      expect(Array.from(toInt32(types!))).toEqual(enc.tokenTypeIds);
    });
  }
});
