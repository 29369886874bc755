/**
 * Classes 6 and 7 of issue 12: text handling that is neither quadratic nor lossy, and refusals
 * that say what happened (deep JSON nesting, long pickle APPENDS) instead of
 * "unexpected RangeError: Maximum call stack size exceeded".
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, WeightsError } from '../../src/errors.js';
import { scanJson } from '../../src/json_guard.js';
import { SpecialTokenSplitter } from '../../src/tokenizer/special.js';
import { LxmertTokenizer } from '../../src/tokenizer/tokenizer.js';
import { readConfigJson } from '../../src/weights/config_file.js';
import { unpickle, type UnpickleHooks } from '../../src/weights/pickle.js';
import { openTorchBin } from '../../src/weights/torch_bin.js';
import { parseSafetensorsHeader } from '../../src/weights/safetensors.js';
import { expectOneLineError, lxmert, ROOT } from '../helpers/cli.js';
import { buildZip, copyOf, rawSafetensors, tempDir, thrown, TINY } from './helpers.js';

const tmp = tempDir('sec-text');

/** The splitter as it was (indexOf per token per match): the reference for the trie's output. */
function referenceSplit(tokens: string[], text: string): string[] {
  const sorted = [...new Set(tokens)].filter((t) => t).sort((a, b) => b.length - a.length);
  const out: string[] = [];
  let pos = 0;
  for (;;) {
    let best = -1;
    let bestAt = Infinity;
    for (let k = 0; k < sorted.length; k++) {
      const at = text.indexOf(sorted[k], pos);
      if (at >= 0 && at < bestAt) [best, bestAt] = [k, at];
    }
    if (best < 0) break;
    if (bestAt > pos) out.push(`t:${text.slice(pos, bestAt)}`);
    out.push(`s:${sorted[best]}`);
    pos = bestAt + sorted[best].length;
  }
  if (pos < text.length) out.push(`t:${text.slice(pos)}`);
  return out;
}

function trieSplit(tokens: string[], text: string): string[] {
  const out: string[] = [];
  new SpecialTokenSplitter(tokens).split(
    text,
    (t) => out.push(`t:${t}`),
    (s) => out.push(`s:${s}`),
  );
  return out;
}

describe('special tokens: linear, and the same split as before', () => {
  it('matches the indexOf reference on random texts over a small alphabet', () => {
    let seed = 7;
    const rnd = (k: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % k;
    };
    const word = (len: number) => Array.from({ length: len }, () => 'ab[]'[rnd(4)]).join('');
    for (let trial = 0; trial < 300; trial++) {
      const tokens = Array.from({ length: 1 + rnd(5) }, () => word(1 + rnd(4)));
      const text = word(rnd(40));
      expect(trieSplit(tokens, text), `${JSON.stringify(tokens)} ${text}`).toEqual(
        referenceSplit(tokens, text),
      );
    }
  });

  it('a tokenizer.json listing all 30,522 vocabulary entries as added tokens stays fast', () => {
    const lines = readFileSync(join(ROOT, 'data', 'bert-base-uncased-vocab.txt'), 'utf8')
      .split('\n')
      .filter((l, i, a) => i < a.length - 1 || l !== '');
    const vocab = Object.fromEntries(lines.map((t, i) => [t, i]));
    const json = {
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', vocab },
      added_tokens: lines.map((content, id) => ({ id, content })),
    };
    const tok = LxmertTokenizer.fromTokenizerJson(JSON.stringify(json));
    const text = 'what color is the cat on the mat? '.repeat(3000); // ~100k characters
    const t0 = performance.now();
    const ids = tok.textToIds(text);
    // Quadratic (every token tried at every match) took minutes here; linear takes well under 1 s.
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(ids.length).toBeGreaterThan(3000);
    const short = 'what color is the cat?';
    expect(tok.textToIds(short)).toEqual(
      referenceSplit(lines, short)
        .map((p) => (p.startsWith('s:') ? vocab[p.slice(2)] : -1))
        .filter((x) => x >= 0),
    );
  });

  it('an added token longer than maxSpecialTokenChars is refused', () => {
    expect(() => new SpecialTokenSplitter(['x'.repeat(300)])).toThrow(/limit maxSpecialTokenChars/);
  });
});

describe('invalid UTF-8 on stdin is reported with its line, not dropped', () => {
  it('lxmert tokenize: a 0xFF byte on line 2', () => {
    const input = Buffer.concat([
      Buffer.from('{"text": "fine"}\n{"text": "caf'),
      Buffer.from([0xff]),
      Buffer.from('"}\n'),
    ]);
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bin', 'lxmert.js'),
        'tokenize',
        '--vocab',
        join(ROOT, 'data', 'bert-base-uncased-vocab.txt'),
      ],
      {
        input,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(
      /^lxmert tokenize: InputError: stdin line 2: expected UTF-8 text, got an invalid byte sequence at byte 13 \(0xff\)$/,
    );
  });

  it('a vocab.txt with invalid UTF-8 is refused, naming the line', () => {
    const dir = copyOf(TINY, ['config.json'], join(tmp, 'bad-vocab'));
    writeFileSync(join(dir, 'vocab.txt'), Buffer.from([0x61, 0x0a, 0x62, 0xc3, 0x0a]));
    const r = lxmert(['tokenize', '--model', dir], '{"text": "a"}\n', 30_000);
    expect(expectOneLineError(r)).toMatch(/vocab\.txt: invalid UTF-8 on line 2/);
  });
});

describe('deep nesting and long appends end in typed one-line errors', () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);

  it('scanJson measures depth and finds duplicates at any level', () => {
    expect(scanJson('[[1]]', 2)).toBeUndefined();
    expect(scanJson('[[[1]]]', 2)).toMatch(/nested deeper than 2 levels/);
    expect(scanJson('{"a": {"b": 1, "b": 2}}', 8)).toMatch(/key "b" appears twice/);
    expect(scanJson('{"a": {"b": 1}, "b": {"a": 1}}', 8)).toBeUndefined();
    expect(scanJson('{"a\\"": 1, "a": 2}', 8)).toBeUndefined();
  });

  it('a safetensors header nested 100,000 deep', () => {
    const bytes = rawSafetensors(`{"x": ${deep}}`, new Uint8Array(0));
    expect(() => parseSafetensorsHeader(bytes, bytes.length, 'deep.safetensors')).toThrow(
      /deep\.safetensors: header: nested deeper than 64 levels/,
    );
  });

  it('a config.json nested 100,000 deep (API and CLI)', async () => {
    const dir = copyOf(TINY, ['model.safetensors'], join(tmp, 'deep-config'));
    writeFileSync(join(dir, 'config.json'), `{"id2label": ${deep}}`);
    const err = await thrown(() => readConfigJson(dir));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/nested deeper than 64 levels/);
    const r = lxmert(['convert', dir, join(tmp, 'deep-out')], undefined, 30_000);
    expect(expectOneLineError(r)).toMatch(/^lxmert convert: ConfigError: .*nested deeper than 64/);
  });

  it('a pickle appending 500,000 items at once parses (no call-stack overflow)', () => {
    const n = 500_000;
    const b = new Uint8Array(4 + 2 * n + 2);
    b.set([0x80, 0x02, 0x5d, 0x28]); // PROTO 2, EMPTY_LIST, MARK
    for (let i = 0; i < n; i++) b.set([0x4b, i & 0xff], 4 + 2 * i); // BININT1
    b.set([0x65, 0x2e], 4 + 2 * n); // APPENDS, STOP
    const refuse = () => {
      throw new WeightsError('no');
    };
    const hooks: UnpickleHooks = {
      findGlobal: refuse,
      call: refuse,
      build: refuse,
      persistentLoad: refuse,
    };
    const { value } = unpickle(b, hooks, 'long.pkl');
    expect((value as number[]).length).toBe(n);
  });

  it('... and as a checkpoint it is a typed error saying what the pickle holds', async () => {
    const n = 500_000;
    const b = new Uint8Array(4 + 2 * n + 2);
    b.set([0x80, 0x02, 0x5d, 0x28]);
    for (let i = 0; i < n; i++) b.set([0x4b, 1], 4 + 2 * i);
    b.set([0x65, 0x2e], 4 + 2 * n);
    const bin = join(tmp, 'appends.bin');
    writeFileSync(bin, buildZip([{ name: 'archive/data.pkl', data: b }]));
    const err = await thrown(() => openTorchBin(bin));
    expect(err).toBeInstanceOf(WeightsError);
    expect(err.message).toMatch(/appends\.bin: pickle holds a list, not a state_dict/);
  });
});
