/**
 * Node: a model folder as a file source for LxmertVqa: a `lxmert convert` output (read from
 * disk, sha256 by node:crypto) or a Hugging Face checkpoint folder (loadCheckpoint), with the
 * package's data/ files for answer lists and the vocabulary.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LoadedWeights, SelfLoadingFiles } from './model_files.js';
import { loadCheckpoint } from '../weights/checkpoint.js';
import { packageDataDir, resolveLabels } from '../weights/labels.js';
import { fsReader, nodeSha256 } from '../weights/loader_node.js';

/** The files of the folder `dir`, for `LxmertVqa.load({ model: folderSource(dir) })`. */
export function folderSource(dir: string): SelfLoadingFiles {
  const full = resolve(dir.endsWith('model.json') ? join(dir, '..') : dir);
  return {
    name: full,
    readFile: fsReader(full),
    sha256: nodeSha256,
    readData: async (file) => readFile(join(await packageDataDir(), file), 'utf8'),
    load: async ({ onProgress, signal }): Promise<LoadedWeights> => {
      const ckpt: LoadedWeights = await loadCheckpoint(full, { onProgress, signal });
      if (!ckpt.manifest && ckpt.labels) {
        // say where loadCheckpoint found them (config.json id2label, or data/ by num_qa_labels)
        ckpt.labelsFrom = (await resolveLabels(ckpt.config, undefined))?.from;
      }
      return ckpt;
    },
  };
}
