/**
 * `lxmert tokenize` end to end: spawns `node bin/lxmert.js tokenize` (needs `npm run build`;
 * `npm test` builds first). Outputs are compared with golden.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOLDEN, ROOT, VOCAB_PATH, VOCAB_TEXT, tokenizerJsonFor } from './helpers.js';

const BIN = join(ROOT, 'bin/lxmert.js');
const BOUND = 20_000;
const tmp = mkdtempSync(join(tmpdir(), 'lxmert-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/src/cli/tokenize.js'))) {
    throw new Error('dist/src/cli/tokenize.js is missing: run `npm run build` first');
  }
});

function run(
  args: string[],
  input = '',
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'tokenize', ...args], {
    input,
    cwd: ROOT,
    encoding: 'utf8',
    timeout: BOUND,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (s: string): unknown[] =>
  s
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));

const expected = (e: (typeof GOLDEN)[number]) => ({
  input_ids: e.ids,
  token_type_ids: e.token_type_ids,
  attention_mask: e.attention_mask,
});

describe('lxmert tokenize', () => {
  it(
    'reproduces every golden.json entry, in order, with --vocab',
    () => {
      const input = GOLDEN.map((e) =>
        JSON.stringify({ text: e.text, text_pair: e.text_pair, max_length: e.max_length }),
      ).join('\n');
      const r = run(['--vocab', VOCAB_PATH], input + '\n');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(lines(r.stdout)).toEqual(GOLDEN.map(expected));
    },
    BOUND,
  );

  it(
    'accepts --model DIR and a tokenizer.json as --vocab; skips blank lines; CRLF input',
    () => {
      const e = GOLDEN[0] as (typeof GOLDEN)[number];
      const json = join(tmp, 'tokenizer.json');
      writeFileSync(json, JSON.stringify(tokenizerJsonFor(VOCAB_TEXT)));
      const input = `\r\n${JSON.stringify({ text: e.text })}\r\n\r\n`;
      for (const args of [
        ['--model', join(ROOT, 'test/fixtures/lxmert-vqa-tiny')],
        ['--vocab', json],
      ]) {
        const r = run(args, input);
        expect(r.status, r.stderr).toBe(0);
        expect(lines(r.stdout)).toEqual([expected(e)]);
      }
    },
    BOUND,
  );

  it(
    'empty stdin gives empty output',
    () => {
      const r = run(['--vocab', VOCAB_PATH], '');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('');
    },
    BOUND,
  );

  it(
    '--help prints usage on stdout',
    () => {
      const r = run(['--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^usage: lxmert tokenize \(--vocab FILE \| --model DIR\)/);
    },
    BOUND,
  );

  it(
    'usage errors exit 2 with one line on stderr',
    () => {
      for (const args of [
        [],
        ['--vocab', VOCAB_PATH, '--model', ROOT],
        ['--vocab', join(tmp, 'missing.txt')],
        ['--vocab', tmp],
        ['--model', VOCAB_PATH],
        ['--bogus'],
      ]) {
        const r = run(args, '');
        expect(r.status, args.join(' ')).toBe(2);
        expect(r.stderr).toMatch(/^lxmert tokenize: UsageError: .+\n$/);
      }
    },
    BOUND,
  );

  it(
    'bad lines are errors naming the line number',
    () => {
      const ok = JSON.stringify({ text: 'a' });
      const cases: [string, RegExp][] = [
        ['{"text": "a"', /stdin line 2: expected a JSON object .* got invalid JSON/],
        ['"just a string"', /stdin line 2: expected a JSON object/],
        ['{"text": 5}', /stdin line 2: text: expected a string, got number/],
        ['{"txt": "a"}', /stdin line 2: .*unknown key\(s\) "txt"/],
        ['{"text": "a", "text_pair": 1}', /stdin line 2: text_pair: expected a string/],
        ['{"text": "a", "max_length": 0}', /stdin line 2: max_length: expected a positive integer/],
        [
          '{"text": "a", "max_length": "20"}',
          /stdin line 2: max_length: expected a positive integer/,
        ],
        ['{"text": "a b c d", "text_pair": "e", "max_length": 2}', /stdin line 2: cannot truncate/],
      ];
      for (const [bad, message] of cases) {
        const r = run(['--vocab', VOCAB_PATH], `${ok}\n${bad}\n${ok}\n`);
        expect(r.status, bad).toBe(1);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
    },
    BOUND,
  );

  it(
    'text_pair and max_length may be null; lone surrogates and 1 MB lines are handled',
    () => {
      const e = GOLDEN[0] as (typeof GOLDEN)[number];
      const big = 'What color is the cat? '.repeat(1 << 15);
      const input = [
        JSON.stringify({ text: e.text, text_pair: null, max_length: null }),
        '{"text": "What color\\ud800 is the cat?"}',
        JSON.stringify({ text: big, max_length: 8 }),
      ].join('\n');
      const r = run(['--vocab', VOCAB_PATH], input);
      expect(r.status, r.stderr).toBe(0);
      const out = lines(r.stdout);
      expect(out.slice(0, 2)).toEqual([expected(e), expected(e)]);
      expect(out[2]).toEqual({
        input_ids: e.ids,
        token_type_ids: e.token_type_ids,
        attention_mask: e.attention_mask,
      });
    },
    BOUND,
  );

  it(
    '10,000 lines stream through in bounded time',
    () => {
      const input =
        `${JSON.stringify({ text: 'Is there a dog in the image?', max_length: 20 })}\n`.repeat(
          10_000,
        );
      const r = run(['--vocab', VOCAB_PATH], input);
      expect(r.status, r.stderr).toBe(0);
      const out = r.stdout.split('\n').filter((l) => l !== '');
      expect(out).toHaveLength(10_000);
      expect(new Set(out).size).toBe(1);
    },
    BOUND,
  );
});
