/**
 * Node: open the weights of a Hugging Face checkpoint folder for streaming, whatever their
 * format. Looked for in transformers' order of preference: `model.safetensors`,
 * `model.safetensors.index.json`, `pytorch_model.bin`, `pytorch_model.bin.index.json`, then the
 * TF weights `tf_model.h5`, `tf_model.h5.index.json` (first when TF is preferred: `from: 'tf'`).
 */
import { join } from 'node:path';
import { WeightsError } from '../errors.js';
import { parseJsonGuarded } from '../json_guard.js';
import { limits } from '../limits.js';
import { readTextFile } from '../safe_file.js';
import { exists, openForRead } from './fs_util.js';
import { parseSafetensorsHeader } from './safetensors.js';
import type { TensorEntry, WeightsFile, WeightsFormat } from './tensor_source.js';
import { openTorchBin } from './torch_bin.js';
import { readAt } from './zip_reader.js';

/** Weight file names a folder may hold, in the order they are tried. */
export const WEIGHT_FILES = [
  'model.safetensors',
  'model.safetensors.index.json',
  'pytorch_model.bin',
  'pytorch_model.bin.index.json',
] as const;

/**
 * Open one safetensors file: header parsed and checked, tensors read on demand. `root`: a
 * folder the file must stay inside (symbolic links resolved).
 */
export async function openSafetensors(path: string, root?: string): Promise<WeightsFile> {
  const fh = await openForRead(path, { root });
  try {
    const size = (await fh.stat()).size;
    if (size < 8) parseSafetensorsHeader(new Uint8Array(size), size, path); // throws
    const n = new DataView((await readAt(fh, 0, 8, path)).buffer).getBigUint64(0, true);
    const headLen = n + 8n <= BigInt(size) ? 8 + Number(n) : 8;
    const header = parseSafetensorsHeader(await readAt(fh, 0, headLen, path), size, path);
    const entries = new Map<string, TensorEntry>();
    for (const e of header.entries) {
      entries.set(e.name, {
        name: e.name,
        dtype: e.dtype,
        shape: e.shape,
        storageId: `${path}@${e.begin}`,
        read: () => readAt(fh, e.begin, e.end - e.begin, `${path}: tensor '${e.name}'`),
      });
    }
    return { path, format: 'safetensors', entries, close: () => fh.close() };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Open a single weights file by its extension (`.safetensors`, TF `.h5` or torch `.bin`). */
export async function openWeightsFile(path: string, root?: string): Promise<WeightsFile> {
  if (path.endsWith('.h5')) return (await import('./h5_reader.js')).openTfH5(path, root);
  return path.endsWith('.safetensors') ? openSafetensors(path, root) : openTorchBin(path, root);
}

/** TF weight file names (HF's TF2_WEIGHTS_NAME and its index), in the order they are tried. */
export const TF_WEIGHT_FILES = ['tf_model.h5', 'tf_model.h5.index.json'] as const;

/** Which framework's weights to take when a folder or repo has both (default 'pt'). */
export type WeightsFramework = 'pt' | 'tf';

/** Every weight file name, in the order tried for `from` (PyTorch first unless 'tf'). */
export function weightFileOrder(from: WeightsFramework = 'pt'): string[] {
  return from === 'tf'
    ? [...TF_WEIGHT_FILES, ...WEIGHT_FILES]
    : [...WEIGHT_FILES, ...TF_WEIGHT_FILES];
}

/** The weights of a folder, possibly spread over shards. */
export interface WeightsSet {
  /** The files read, relative to the folder. */
  files: string[];
  format: WeightsFormat;
  /** `true` when read through an `*.index.json`. */
  sharded: boolean;
  entries: Map<string, TensorEntry>;
  close(): Promise<void>;
}

/**
 * Which weight file a folder has (the first found in weightFileOrder(from)), or undefined.
 * Anything at the name counts (a pipe or folder there is then refused by name when opened, not
 * skipped).
 */
export async function findWeightsFile(
  dir: string,
  from: WeightsFramework = 'pt',
): Promise<string | undefined> {
  for (const f of weightFileOrder(from)) if (await exists(join(dir, f))) return f;
  return undefined;
}

/** Parse `*.index.json`: `{weight_map: {tensor: shard file}}`; shard names must be plain. */
export function parseIndex(text: string, source: string): Map<string, string> {
  const json = parseJsonGuarded(text, (msg) => {
    throw new WeightsError(msg, source);
  });
  const wm = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) {
    throw new WeightsError('no "weight_map" object', source);
  }
  const out = new Map<string, string>();
  for (const [name, file] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof file !== 'string' || !/^[\w.-]+$/.test(file) || file.startsWith('.')) {
      throw new WeightsError(
        `weight_map['${name}'] = ${JSON.stringify(file)} is not a plain file name`,
        source,
      );
    }
    out.set(name, file);
  }
  if (out.size === 0) throw new WeightsError('weight_map is empty', source);
  return out;
}

/** Open a checkpoint folder's weights (see weightFileOrder for the order). */
export async function openWeights(dir: string, from: WeightsFramework = 'pt'): Promise<WeightsSet> {
  const found = await findWeightsFile(dir, from);
  if (!found)
    throw new WeightsError(`no weights: looked for ${weightFileOrder(from).join(', ')}`, dir);
  if (found === 'tf_model.h5.index.json') {
    const set = await (await import('./h5_reader.js')).openTfH5Index(dir, found);
    return { ...set, format: 'tf-h5', sharded: true };
  }
  if (!found.endsWith('.index.json')) {
    const f = await openWeightsFile(join(dir, found), dir);
    return { files: [found], format: f.format, sharded: false, entries: f.entries, close: f.close };
  }
  const set = await openIndexedShards(dir, found, (shard) => openWeightsFile(shard, dir));
  return { ...set, format: set.opened[0].format, sharded: true };
}

/** The shards of an `*.index.json`, opened, and their tensors by name (see openIndexedShards). */
export interface IndexedShards {
  /** The index, then the shards, as file names in the folder. */
  files: string[];
  opened: WeightsFile[];
  entries: Map<string, TensorEntry>;
  close(): Promise<void>;
}

/**
 * Open every shard the index `dir/indexFile` names with `openShard` and merge their tensors:
 * a tensor in two shards, or a weight_map key whose tensor (`openedName(key)`, for formats whose
 * shards rename) is in no shard, is refused. On error every opened shard is closed.
 */
export async function openIndexedShards(
  dir: string,
  indexFile: string,
  openShard: (path: string) => Promise<WeightsFile>,
  openedName: (key: string) => string = (key) => key,
): Promise<IndexedShards> {
  const path = join(dir, indexFile);
  const text = await readTextFile(path, {
    root: dir,
    maxBytes: limits().maxIndexBytes,
    limitName: 'maxIndexBytes',
  });
  const map = parseIndex(text, path);
  const shardNames = [...new Set(map.values())];
  const opened: WeightsFile[] = [];
  const close = async () => {
    await Promise.all(opened.map((f) => f.close()));
  };
  try {
    const entries = new Map<string, TensorEntry>();
    for (const s of shardNames) {
      const f = await openShard(join(dir, s));
      opened.push(f);
      for (const [name, e] of f.entries) {
        if (entries.has(name))
          throw new WeightsError(`tensor '${name}' is in more than one shard`, join(dir, s));
        entries.set(name, e);
      }
    }
    const missing = [...map].filter(([key]) => !entries.has(openedName(key)));
    if (missing.length) {
      throw new WeightsError(
        `${missing.length} tensor(s) named in the index are not in their shard: ` +
          missing
            .slice(0, 10)
            .map(([n, f]) => `${n} (${f})`)
            .join(', '),
        path,
      );
    }
    return { files: [indexFile, ...shardNames], opened, entries, close };
  } catch (e) {
    await close();
    throw e;
  }
}
