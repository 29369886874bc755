/**
 * Node.js loaders for LxmertTokenizer (not browser-safe: they read files). The default vocabulary,
 * `data/bert-base-uncased-vocab.txt`, ships with the package.
 */
import { existsSync, lstatSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenizerError } from '../errors.js';
import { limits } from '../limits.js';
import { readTextFile } from '../safe_file.js';
import { LxmertTokenizer } from './tokenizer.js';
import { parseTokenizerConfig } from './tokenizer_json.js';
import type { TokenizerOptions } from './types.js';

const DEFAULT_VOCAB = join('data', 'bert-base-uncased-vocab.txt');

/**
 * Path of the bundled `bert-base-uncased` vocabulary: found by walking up from this module to the
 * package root (works from `src/tokenizer/` and from `dist/src/tokenizer/`).
 */
export function defaultVocabPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, DEFAULT_VOCAB);
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new TokenizerError(
        `cannot find ${DEFAULT_VOCAB} above ${fileURLToPath(import.meta.url)}`,
      );
    }
    dir = parent;
  }
}

/** The lxmert-base-uncased tokenizer with the bundled vocabulary. */
export async function loadDefaultTokenizer(options?: TokenizerOptions): Promise<LxmertTokenizer> {
  return LxmertTokenizer.fromVocabText(await readText(defaultVocabPath()), options);
}

/**
 * Load a tokenizer from a `vocab.txt`, a `tokenizer.json`, or a checkpoint folder. In a folder,
 * `vocab.txt` (with `tokenizer_config.json` when present) is preferred, as HF's slow tokenizer
 * uses it; otherwise `tokenizer.json`. `options` override what the files say.
 */
export async function loadTokenizer(
  path: string,
  options: TokenizerOptions = {},
): Promise<LxmertTokenizer> {
  if (!existsSync(path)) throw new TokenizerError(`${path}: no such file or folder`);
  if (!statSync(path).isDirectory()) {
    const text = await readText(path); // kind and size checked before it is opened
    return path.endsWith('.json')
      ? LxmertTokenizer.fromTokenizerJson(text, options)
      : LxmertTokenizer.fromVocabText(text, options);
  }
  const vocabTxt = join(path, 'vocab.txt');
  if (present(vocabTxt)) {
    const configPath = join(path, 'tokenizer_config.json');
    const config = present(configPath)
      ? parseTokenizerConfig(await readText(configPath, path, limits().maxConfigBytes))
      : {};
    return LxmertTokenizer.fromVocabText(await readText(vocabTxt, path), { ...config, ...options });
  }
  const json = join(path, 'tokenizer.json');
  if (present(json)) {
    return LxmertTokenizer.fromTokenizerJson(await readText(json, path), options);
  }
  throw new TokenizerError(`${path}: no vocab.txt or tokenizer.json in this folder`);
}

/** Anything at `path` (a pipe or a dangling link too: reading it then says what is wrong). */
function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A regular file's UTF-8 text (inside `root` when given: no link leading out of the model
 * folder), at most `maxBytes`; any refusal is a TokenizerError naming the file.
 */
async function readText(
  path: string,
  root?: string,
  maxBytes = limits().maxVocabBytes,
): Promise<string> {
  return readTextFile(path, {
    root,
    maxBytes,
    limitName: maxBytes === limits().maxVocabBytes ? 'maxVocabBytes' : 'maxConfigBytes',
    error: (msg, p) => new TokenizerError(`${p}: ${msg}`),
  });
}
