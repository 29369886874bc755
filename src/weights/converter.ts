/**
 * Node: convert a Hugging Face LXMERT checkpoint (local folder or Hub id) into the lxmert-web
 * format: `model.json` (a tf.js-style weights manifest, see manifest.ts) and 4 MiB shards.
 *
 * Streams: tensors are read one at a time from the source file(s) and appended to the shards,
 * which are hashed as they are written. Everything goes to a temporary folder next to OUTDIR
 * that is renamed into place only when complete, and removed on any failure.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { WeightsError } from '../errors.js';
import { architectureOf } from '../model/weight_names.js';
import { readConfigJson } from './config_file.js';
import { kindOf, sha256Bytes, sha256File, sizeOf } from './fs_util.js';
import { downloadModel, isHubId, type HubOptions, type HubSnapshot } from './hub.js';
import { DEFAULT_VOCAB, DEFAULT_VOCAB_SIZE, packageDataDir, resolveLabels } from './labels.js';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  OUTPUT_DTYPES,
  weightByteLength,
  type LxmertManifest,
  type ManifestFile,
  type ManifestSource,
  type ManifestWeight,
  type OutputDtype,
} from './manifest.js';
import type { ProgressCallback } from './progress.js';
import { encodeWeight } from '../codec/encoding.js';
import { toFloat32 } from '../codec/raw_tensor.js';
import { openWeights } from './reader.js';
import { hasQaHead, selectWeights } from './select.js';
import { ShardWriter } from './shard_writer.js';

/** Which tensors the int8 mode quantizes: every rank-2 `*.weight` (Linear and embeddings). */
function quantizesToInt8(name: string, shape: readonly number[]): boolean {
  return shape.length === 2 && name.endsWith('.weight') && shape[0] > 0 && shape[1] > 0;
}

export const DEFAULT_SHARD_SIZE = 4 * 1024 * 1024;
export const CONVERTER_VERSION = '0.1.0';

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
}

async function addFile(dir: string, name: string, bytes: Uint8Array): Promise<ManifestFile> {
  await writeFile(join(dir, name), bytes, { flag: 'wx' });
  return { path: name, bytes: bytes.byteLength, sha256: sha256Bytes(bytes) };
}

async function resolveSource(
  src: string,
  opts: ConvertOptions,
): Promise<{ dir: string; hub?: HubSnapshot }> {
  const kind = await kindOf(src);
  if (kind === 'dir') return { dir: src };
  if (kind !== undefined)
    throw new WeightsError(
      'SRC must be a checkpoint folder (with config.json) or a Hub model id',
      src,
    );
  if (!isHubId(src) || src.startsWith('.'))
    throw new WeightsError('no such folder, and not a Hub model id', src);
  const hub = await downloadModel(src, { ...opts, onProgress: opts.onProgress });
  return { dir: hub.dir, hub };
}

/** Refuse an OUTDIR that exists and is not an empty folder. */
async function checkOutDir(outDir: string): Promise<void> {
  const kind = await kindOf(outDir);
  if (kind === undefined) return;
  if (kind !== 'dir' || (await readdir(outDir)).length > 0) {
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
  const cfgFile = await readConfigJson(dir);
  const cfg = cfgFile.config;
  const arch = architectureOf(cfg);
  const qa = hasQaHead(cfg, arch);
  if (opts.labels && !qa)
    throw new WeightsError(`--labels given, but ${arch} has no answer head`, opts.labels);
  const labels = qa ? await resolveLabels(cfg, opts.labels) : undefined;

  const set = await openWeights(dir);
  const tmp = join(
    dirname(outDir),
    `.${basename(outDir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  const onSignal = (sig: NodeJS.Signals) => {
    rmSync(tmp, { recursive: true, force: true });
    process.kill(process.pid, sig);
  };
  let writer: ShardWriter | undefined;
  try {
    const where = join(dir, set.files[0]);
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
    const total = weights.reduce((a, w) => a + weightByteLength(w), 0);

    await mkdir(tmp, { recursive: true });
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    writer = new ShardWriter(tmp, total, shardSize);
    for (let i = 0; i < weights.length; i++) {
      const { entry, name } = sel.weights[i];
      const q = weights[i].quantization;
      const bytes = await entry.read();
      if (!q && entry.dtype === 'F32') {
        await writer.write(bytes);
        continue;
      }
      const f32 = toFloat32({ dtype: entry.dtype, shape: entry.shape, bytes }, name);
      await writer.write(encodeWeight(q?.dtype ?? 'float32', f32, entry.shape));
    }
    const shards = await writer.finish();

    const manifest: LxmertManifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      modelTopology: null,
      weightsManifest: [{ paths: shards.map((s) => s.path), weights }],
      architecture: arch,
      dtype,
      config: cfgFile.json,
      shards,
      tiedWeights: sel.tied,
      source: await describeSource(dir, set.files, hub),
      converter: { name: 'lxmert-web', version: CONVERTER_VERSION },
    };
    const vocab = await findVocab(dir, cfg.vocabSize);
    if (vocab) manifest.vocab = await addFile(tmp, 'vocab.txt', await readFile(vocab));
    if (labels) {
      const bytes = new TextEncoder().encode(JSON.stringify(labels.labels) + '\n');
      manifest.labels = {
        ...(await addFile(tmp, 'labels.json', bytes)),
        count: labels.labels.length,
      };
    }
    await writeFile(join(tmp, MANIFEST_FILE), formatManifest(manifest), { flag: 'wx' });
    if ((await kindOf(outDir)) === 'dir') await rmdir(outDir);
    await rename(tmp, outDir);
    return { outDir, manifest, bytes: total };
  } catch (e) {
    await writer?.abort();
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await set.close();
  }
}

/** Indented JSON with number arrays (shapes) kept on one line. */
export function formatManifest(m: LxmertManifest): string {
  const text = JSON.stringify(m, null, 1).replace(
    /\[\s*(-?\d[\d.e+-]*(?:,\s*-?\d[\d.e+-]*)*)\s*\]/g,
    (_, nums: string) => `[${nums.split(/,\s*/).join(', ')}]`,
  );
  return text + '\n';
}

/** vocab.txt of the source, else the BERT uncased vocabulary when the sizes say it fits. */
async function findVocab(dir: string, vocabSize: number): Promise<string | undefined> {
  const own = join(dir, 'vocab.txt');
  if ((await kindOf(own)) === 'file') {
    const lines = (await readFile(own, 'utf8')).split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines.length > vocabSize) {
      throw new WeightsError(
        `${lines.length} tokens, more than config.vocab_size (${vocabSize})`,
        own,
      );
    }
    return own;
  }
  if (vocabSize === DEFAULT_VOCAB_SIZE) return join(await packageDataDir(), DEFAULT_VOCAB);
  return undefined;
}

async function describeSource(
  dir: string,
  files: string[],
  hub?: HubSnapshot,
): Promise<ManifestSource> {
  const described: ManifestFile[] = [];
  for (const f of files) {
    const p = join(dir, f);
    described.push({ path: f, bytes: (await sizeOf(p)) ?? 0, sha256: await sha256File(p) });
  }
  if (hub) {
    const s: ManifestSource = {
      kind: 'hub',
      endpoint: hub.endpoint,
      repo: hub.repo,
      revision: hub.revision,
      files: described,
    };
    if (hub.commit) s.commit = hub.commit;
    return s;
  }
  return { kind: 'local', path: resolve(dir), files: described };
}
