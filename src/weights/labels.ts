/**
 * Node: answer labels and the default vocabulary for converted models, from the package's
 * data/ folder (data/SOURCES.md says where each file comes from) or a user's file.
 */
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LxmertConfig } from '../config.js';
import { WeightsError } from '../errors.js';
import { parseJsonGuarded } from '../json_guard.js';
import { limits } from '../limits.js';
import { readTextFile } from '../safe_file.js';

import { BUILTIN_LABELS, DEFAULT_VOCAB, DEFAULT_VOCAB_SIZE } from './builtin_data.js';

export { BUILTIN_LABELS, DEFAULT_VOCAB, DEFAULT_VOCAB_SIZE };

let dataDir: Promise<string> | undefined;

/** The package's data/ folder (found upwards from this module: src/ or dist/src/). */
export function packageDataDir(): Promise<string> {
  dataDir ??= (async () => {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (let i = 0; i < 6; i++) {
      try {
        if ((await stat(join(dir, 'data', DEFAULT_VOCAB))).isFile()) return join(dir, 'data');
      } catch {
        // keep going up
      }
      dir = dirname(dir);
    }
    throw new WeightsError(
      "cannot find the package's data/ folder",
      fileURLToPath(import.meta.url),
    );
  })();
  return dataDir;
}

/** A labels file: a JSON array of strings, or plain text with one label per line. */
export async function readLabelsFile(path: string): Promise<string[]> {
  const text = await readTextFile(path, {
    maxBytes: limits().maxVocabBytes,
    limitName: 'maxVocabBytes',
  });
  if (text.trimStart().startsWith('[')) {
    let json: unknown;
    try {
      json = parseJsonGuarded(text, (msg) => {
        throw new Error(msg);
      });
    } catch (e) {
      throw new WeightsError(`labels are not valid JSON (${(e as Error).message})`, path);
    }
    if (!Array.isArray(json) || json.some((s) => typeof s !== 'string')) {
      throw new WeightsError('labels JSON is not an array of strings', path);
    }
    return json as string[];
  }
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * The answer labels of a QA head: `--labels FILE` if given, else a complete `id2label` from
 * config.json, else the built-in list matching `num_qa_labels`, else none.
 */
export async function resolveLabels(
  cfg: LxmertConfig,
  labelsFile: string | undefined,
): Promise<{ labels: string[]; from: string } | undefined> {
  const n = cfg.numQaLabels;
  if (labelsFile) {
    const labels = await readLabelsFile(labelsFile);
    if (labels.length !== n) {
      throw new WeightsError(
        `${labels.length} labels, but config.num_qa_labels is ${n}`,
        labelsFile,
      );
    }
    return { labels, from: labelsFile };
  }
  const id2 = cfg.id2label;
  if (
    id2 &&
    Object.keys(id2).length === n &&
    Array.from({ length: n }, (_, i) => i in id2).every(Boolean)
  ) {
    return { labels: Array.from({ length: n }, (_, i) => id2[i]), from: 'config.json id2label' };
  }
  const builtin = BUILTIN_LABELS[n];
  if (!builtin) return undefined;
  const path = join(await packageDataDir(), builtin);
  return { labels: await readLabelsFile(path), from: `data/${builtin}` };
}
