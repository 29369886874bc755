/**
 * Node: convert a Hugging Face LXMERT checkpoint (local folder or Hub id) into the lxmert-web
 * format: `model.json` (a tf.js-style weights manifest, see manifest.ts) and 4 MiB shards.
 *
 * Streams: tensors are read one at a time from the source file(s) and appended to the shards,
 * which are hashed as they are written. Everything goes to a temporary folder next to OUTDIR
 * that is renamed into place only when complete, and removed on any failure (model_folder.ts).
 */
import { lstat, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { WeightsError } from '../errors.js';
import { limits } from '../limits.js';
import { readRegularFile } from '../safe_file.js';
import { architectureOf } from '../model/weight_names.js';
import { readConfigJson } from './config_file.js';
import { convertDetector, isDetectorFolder } from './detector_converter.js';
import { checkFinite, countFloat16Saturated, float32View } from './finite.js';
import { exists, kindOf } from './fs_util.js';
import { downloadModel, isHubId, type HubOptions, type HubSnapshot } from './hub.js';
import { DEFAULT_VOCAB, DEFAULT_VOCAB_SIZE, packageDataDir, resolveLabels } from './labels.js';
import {
  OUTPUT_DTYPES,
  quantizesToInt8,
  type LxmertManifest,
  type ManifestWeight,
  type OutputDtype,
} from './manifest.js';
import { describeSource, writeModelFolder, type ManifestFields } from './model_folder.js';
import type { ProgressCallback } from './progress.js';
import { encodeWeight } from '../codec/encoding.js';
import { toFloat32 } from '../codec/raw_tensor.js';
import { checkNoExtraVariables } from './h5_select.js';
import { openWeights } from './reader.js';
import { hasQaHead, selectWeights } from './select.js';

/** Which tensors the int8 mode quantizes (the manifest checks the same rule). */
export { quantizesToInt8 } from './manifest.js';

export const DEFAULT_SHARD_SIZE = 4 * 1024 * 1024;

export interface ConvertOptions extends Omit<HubOptions, 'onProgress'> {
  dtype?: OutputDtype;
  /** Bytes per shard (default 4 MiB). */
  shardSize?: number;
  /** A labels file (JSON array or one label a line) for the QA head. */
  labels?: string;
  /** Download progress (Hub sources). */
  onProgress?: ProgressCallback;
}

export interface ConvertResult {
  outDir: string;
  manifest: LxmertManifest;
  /** Bytes of all shards. */
  bytes: number;
  /** What the conversion changed and said so (float16 saturation), one line each. */
  warnings: string[];
}

async function resolveSource(
  src: string,
  opts: ConvertOptions,
): Promise<{ dir: string; hub?: HubSnapshot }> {
  const kind = await kindOf(src);
  if (kind === 'dir') return { dir: src };
  if (kind !== undefined)
    throw new WeightsError(
      'SRC must be a checkpoint folder (with config.json, or config.yaml for a detector) or a Hub model id',
      src,
    );
  if (!isHubId(src) || src.startsWith('.'))
    throw new WeightsError('no such folder, and not a Hub model id', src);
  const hub = await downloadModel(src, {
    ...opts,
    onProgress: opts.onProgress,
    configFiles: ['config.json', 'config.yaml'],
  });
  return { dir: hub.dir, hub };
}

/**
 * Before any work: OUTDIR must not be a symbolic link, must not exist or be an empty folder,
 * and its parent (where the temporary folder goes) must be an existing folder.
 */
async function checkOutDir(outDir: string): Promise<void> {
  const parent = dirname(outDir);
  if ((await kindOf(parent)) !== 'dir') {
    throw new WeightsError(`the parent folder ${parent} does not exist or is not a folder`, outDir);
  }
  const l = await lstat(outDir).catch(() => undefined);
  if (l === undefined) return;
  if (l.isSymbolicLink()) {
    throw new WeightsError(
      'is a symbolic link; give the real output folder (it is replaced by a rename at the end)',
      outDir,
    );
  }
  if (!l.isDirectory() || (await readdir(outDir)).length > 0) {
    throw new WeightsError('already exists; remove it or choose another output folder', outDir);
  }
}

/** Convert `src` (folder or Hub id) into `outDir`. */
export async function convertCheckpoint(
  src: string,
  outDir: string,
  opts: ConvertOptions = {},
): Promise<ConvertResult> {
  const dtype = opts.dtype ?? 'float32';
  if (!OUTPUT_DTYPES.includes(dtype))
    throw new WeightsError(`dtype '${String(dtype)}' is not one of ${OUTPUT_DTYPES.join(', ')}`);
  const shardSize = opts.shardSize ?? DEFAULT_SHARD_SIZE;
  if (!Number.isSafeInteger(shardSize) || shardSize <= 0)
    throw new WeightsError(`shard size ${shardSize} is not a positive integer`);
  outDir = resolve(outDir);
  await checkOutDir(outDir);

  const { dir, hub } = await resolveSource(src, opts);
  if (await isDetectorFolder(dir)) {
    if (opts.labels)
      throw new WeightsError('--labels given, but a detector has no answer head', opts.labels);
    const r = await convertDetector(dir, outDir, { dtype, shardSize, hub });
    return { outDir, ...r, warnings: [] };
  }
  const cfgFile = await readConfigJson(dir);
  const cfg = cfgFile.config;
  const arch = architectureOf(cfg);
  const qa = hasQaHead(cfg, arch);
  if (opts.labels && !qa)
    throw new WeightsError(`--labels given, but ${arch} has no answer head`, opts.labels);
  const labels = qa ? await resolveLabels(cfg, opts.labels) : undefined;

  const set = await openWeights(dir, opts.from);
  try {
    const where = join(dir, set.files[0]);
    if (set.format === 'tf-h5') checkNoExtraVariables(cfg, arch, set.entries, where);
    const sel = selectWeights(cfg, arch, set.entries, where);
    const weights: ManifestWeight[] = sel.weights.map(({ name, shape }) => {
      const w: ManifestWeight = { name, shape, dtype: 'float32' };
      if (dtype === 'float16') w.quantization = { dtype: 'float16' };
      if (dtype === 'int8' && quantizesToInt8(name, shape)) {
        w.quantization = {
          dtype: 'int8',
          scheme: 'symmetric-per-row',
          axis: 0,
          scaleDtype: 'float32',
          scaleBytes: shape[0] * 4,
        };
      }
      return w;
    });
    const warnings: string[] = [];
    const encode = async (i: number): Promise<Uint8Array> => {
      const { entry, name } = sel.weights[i];
      const q = weights[i].quantization;
      const bytes = await entry.read();
      if (!q && entry.dtype === 'F32') {
        checkFinite(float32View(bytes), { dtype: entry.dtype, bytes }, name, where);
        return bytes;
      }
      const f32 = toFloat32({ dtype: entry.dtype, shape: entry.shape, bytes }, name);
      checkFinite(f32, { dtype: entry.dtype, bytes }, name, where);
      if (q?.dtype === 'float16') {
        const sat = countFloat16Saturated(f32);
        if (sat > 0) {
          warnings.push(
            `${name}: ${sat} value(s) beyond float16's range saturated to ±65504 (use --dtype float32 to keep them)`,
          );
        }
      }
      return encodeWeight(q?.dtype ?? 'float32', f32, entry.shape);
    };
    const written = await writeModelFolder(outDir, {
      weights,
      encode,
      shardSize,
      describe: async (addFile) => {
        const fields: ManifestFields = {
          architecture: arch,
          dtype,
          config: cfgFile.json,
          tiedWeights: sel.tied,
          source: await describeSource(dir, set.files, hub),
        };
        const vocab = await findVocab(dir, cfg.vocabSize);
        if (vocab) fields.vocab = await addFile('vocab.txt', vocab);
        if (labels) {
          const bytes = new TextEncoder().encode(JSON.stringify(labels.labels) + '\n');
          fields.labels = { ...(await addFile('labels.json', bytes)), count: labels.labels.length };
        }
        return fields;
      },
    });
    return { outDir, ...written, warnings };
  } finally {
    await set.close();
  }
}

/**
 * The bytes of the source's vocab.txt (a regular file inside the source folder, read once),
 * else of the BERT uncased vocabulary when the sizes say it fits.
 */
async function findVocab(dir: string, vocabSize: number): Promise<Uint8Array | undefined> {
  const own = join(dir, 'vocab.txt');
  const read = (path: string, root: string) =>
    readRegularFile(path, { root, maxBytes: limits().maxVocabBytes, limitName: 'maxVocabBytes' });
  if (await exists(own)) {
    const bytes = await read(own, dir);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new WeightsError('not valid UTF-8', own);
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines.length > vocabSize) {
      throw new WeightsError(
        `${lines.length} tokens, more than config.vocab_size (${vocabSize})`,
        own,
      );
    }
    return bytes;
  }
  if (vocabSize === DEFAULT_VOCAB_SIZE) {
    const data = await packageDataDir();
    return read(join(data, DEFAULT_VOCAB), data);
  }
  return undefined;
}
