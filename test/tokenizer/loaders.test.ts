/** Node loaders: the bundled vocabulary, vocab.txt / tokenizer.json files and checkpoint folders. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TokenizerError } from '../../src/errors.js';
import { defaultVocabPath, loadDefaultTokenizer, loadTokenizer } from '../../src/tokenizer/node.js';
import { GOLDEN, ROOT, VOCAB_PATH, VOCAB_TEXT, tokenizerJsonFor } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'lxmert-tok-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const entry = GOLDEN[12] as (typeof GOLDEN)[number]; // "New York City's Statue of Liberty"

describe('node loaders', () => {
  it('defaultVocabPath() finds data/bert-base-uncased-vocab.txt from src/', () => {
    expect(defaultVocabPath()).toBe(VOCAB_PATH);
  });

  it('loadDefaultTokenizer() matches the golden file', async () => {
    const tok = await loadDefaultTokenizer();
    expect(tok.encode(entry.text).inputIds).toEqual(entry.ids);
  });

  it('loadTokenizer(vocab.txt), (tokenizer.json) and folders', async () => {
    const jsonFile = join(tmp, 'tokenizer.json');
    writeFileSync(jsonFile, JSON.stringify(tokenizerJsonFor(VOCAB_TEXT)));
    const onlyJson = join(tmp, 'only-json');
    const withConfig = join(tmp, 'with-config');
    for (const dir of [onlyJson, withConfig]) rmSync(dir, { recursive: true, force: true });
    await import('node:fs/promises').then(async (fs) => {
      await fs.mkdir(onlyJson);
      await fs.copyFile(jsonFile, join(onlyJson, 'tokenizer.json'));
      await fs.mkdir(withConfig);
      await fs.copyFile(VOCAB_PATH, join(withConfig, 'vocab.txt'));
      await fs.writeFile(
        join(withConfig, 'tokenizer_config.json'),
        JSON.stringify({ do_lower_case: false, model_max_length: 64 }),
      );
    });
    const loaded = [
      await loadTokenizer(VOCAB_PATH),
      await loadTokenizer(jsonFile),
      await loadTokenizer(onlyJson),
      await loadTokenizer(join(ROOT, 'test/fixtures/lxmert-vqa-tiny')),
    ];
    for (const tok of loaded) expect(tok.encode(entry.text).inputIds).toEqual(entry.ids);
    // tokenizer_config.json is read: no lower-casing, so capitalised words are not in the vocab.
    const cased = await loadTokenizer(withConfig);
    expect(cased.modelMaxLength).toBe(64);
    expect(cased.tokenize('What cat')).toEqual(['[UNK]', 'cat']);
    // explicit options win over the files
    const lower = await loadTokenizer(withConfig, { lowercase: true });
    expect(lower.encode(entry.text).inputIds).toEqual(entry.ids);
  });

  it('missing files are TokenizerErrors', async () => {
    await expect(loadTokenizer(join(tmp, 'nope'))).rejects.toThrow(TokenizerError);
    await expect(loadTokenizer(tmp + '/')).resolves.toBeDefined(); // has tokenizer.json
    const empty = join(tmp, 'empty');
    await import('node:fs/promises').then((fs) => fs.mkdir(empty, { recursive: true }));
    await expect(loadTokenizer(empty)).rejects.toThrow(/no vocab.txt or tokenizer.json/);
  });
});
