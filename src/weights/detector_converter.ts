/**
 * Node: convert a Hugging Face detector folder (`config.yaml` + `pytorch_model.bin` or
 * `model.safetensors`, e.g. `unc-nlp/frcnn-vg-finetuned`) into the lxmert-web format: the same
 * `model.json` manifest as LXMERT's with `architecture: "GeneralizedRCNN"`, the YAML config as
 * a JSON object in `config`, and 4 MiB shards. HF's tensors are stored as they are (BatchNorm is
 * folded into the convolutions at load, by GeneralizedRCNN.build); `*.num_batches_tracked` is
 * dropped. Written to a temporary folder renamed into place when complete, as convertCheckpoint.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseFrcnnConfig, type FrcnnConfig } from '../detector/index.js';
import { WeightsError } from '../errors.js';
// converter.ts calls convertDetector: a cycle of function references only, resolved by call time.
import { CONVERTER_VERSION, describeSource, formatManifest } from './converter.js';
import { kindOf } from './fs_util.js';
import type { HubSnapshot } from './hub.js';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  weightByteLength,
  type LxmertManifest,
  type ManifestWeight,
  type OutputDtype,
} from './manifest.js';
import { encodeFloat16 } from '../codec/float16.js';
import { toFloat32 } from '../codec/raw_tensor.js';
import { openWeights } from './reader.js';
import { ShardWriter } from './shard_writer.js';
import {
  DETECTOR_ARCHITECTURE,
  DETECTOR_CONFIG_FILE,
  detectorQuantization,
  selectDetectorWeights,
} from './detector_weights.js';

/** A detector folder's config.yaml: its text, the parsed document and the FrcnnConfig. */
export interface DetectorConfigFile {
  text: string;
  /** The YAML document as plain JSON values (stored in model.json's `config`). */
  json: Record<string, unknown>;
  config: FrcnnConfig;
  path: string;
}

/** Read and validate `DIR/config.yaml` (ConfigError for anything but a detector config). */
export async function readDetectorConfig(dir: string): Promise<DetectorConfigFile> {
  const path = join(dir, DETECTOR_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WeightsError(
      code === 'ENOENT' ? 'no config.yaml in the folder' : `cannot read config.yaml (${code})`,
      dir,
    );
  }
  const config = parseFrcnnConfig(text, path);
  // parseFrcnnConfig has accepted it, so it is a mapping of plain values.
  const json = parseYaml(text) as Record<string, unknown>;
  return { text, json, config, path };
}

/** Whether a folder holds a detector (config.yaml and no config.json). */
export async function isDetectorFolder(dir: string): Promise<boolean> {
  return (
    (await kindOf(join(dir, DETECTOR_CONFIG_FILE))) === 'file' &&
    (await kindOf(join(dir, 'config.json'))) === undefined
  );
}

export interface ConvertDetectorOptions {
  dtype: OutputDtype;
  shardSize: number;
  /** Where the folder came from, when downloaded. */
  hub?: HubSnapshot;
}

/** Convert the detector in `dir` to `outDir` (which must not exist or be empty). */
export async function convertDetector(
  dir: string,
  outDir: string,
  opts: ConvertDetectorOptions,
): Promise<{ manifest: LxmertManifest; bytes: number }> {
  const cfg = await readDetectorConfig(dir);
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
    const sel = selectDetectorWeights(cfg.config, set.entries, join(dir, set.files[0]));
    const weights: ManifestWeight[] = sel.map(({ name, shape }) => {
      const w: ManifestWeight = { name, shape, dtype: 'float32' };
      const q = detectorQuantization(name, shape, opts.dtype);
      if (q) w.quantization = q;
      return w;
    });
    const total = weights.reduce((a, w) => a + weightByteLength(w), 0);
    await mkdir(tmp, { recursive: true });
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    writer = new ShardWriter(tmp, total, opts.shardSize);
    for (let i = 0; i < sel.length; i++) {
      const { entry, name } = sel[i];
      const bytes = await entry.read();
      if (!weights[i].quantization && entry.dtype === 'F32') {
        await writer.write(bytes);
        continue;
      }
      const f32 = toFloat32({ dtype: entry.dtype, shape: entry.shape, bytes }, name);
      await writer.write(weights[i].quantization ? encodeFloat16(f32) : new Uint8Array(f32.buffer));
    }
    const shards = await writer.finish();
    const manifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      modelTopology: null,
      weightsManifest: [{ paths: shards.map((s) => s.path), weights }],
      architecture: DETECTOR_ARCHITECTURE,
      dtype: opts.dtype,
      config: cfg.json,
      shards,
      tiedWeights: {},
      source: await describeSource(dir, set.files, opts.hub),
      converter: { name: 'lxmert-web', version: CONVERTER_VERSION },
    } as unknown as LxmertManifest;
    await writeFile(join(tmp, MANIFEST_FILE), formatManifest(manifest), { flag: 'wx' });
    if ((await kindOf(outDir)) === 'dir') await rmdir(outDir);
    await rename(tmp, outDir);
    return { manifest, bytes: total };
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
