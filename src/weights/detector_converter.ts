/**
 * Node: convert a Hugging Face detector folder (`config.yaml` + `pytorch_model.bin` or
 * `model.safetensors`, e.g. `unc-nlp/frcnn-vg-finetuned`) into the lxmert-web format: the same
 * `model.json` manifest as LXMERT's with `architecture: "GeneralizedRCNN"`, the YAML config as
 * a JSON object in `config`, and 4 MiB shards. HF's tensors are stored as they are (BatchNorm is
 * folded into the convolutions at load, by GeneralizedRCNN.build); `*.num_batches_tracked` is
 * dropped. Written to a temporary folder renamed into place when complete (model_folder.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseFrcnnConfig, type FrcnnConfig } from '../detector/index.js';
import { WeightsError } from '../errors.js';
import { kindOf } from './fs_util.js';
import type { HubSnapshot } from './hub.js';
import type { LxmertManifest, ManifestWeight, OutputDtype } from './manifest.js';
import { encodeFloat16 } from '../codec/float16.js';
import { toFloat32 } from '../codec/raw_tensor.js';
import { openWeights } from './reader.js';
import { describeSource, writeModelFolder, type ManifestFields } from './model_folder.js';
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
  try {
    const sel = selectDetectorWeights(cfg.config, set.entries, join(dir, set.files[0]));
    const weights: ManifestWeight[] = sel.map(({ name, shape }) => {
      const w: ManifestWeight = { name, shape, dtype: 'float32' };
      const q = detectorQuantization(name, shape, opts.dtype);
      if (q) w.quantization = q;
      return w;
    });
    return await writeModelFolder(outDir, {
      weights,
      shardSize: opts.shardSize,
      encode: async (i) => {
        const { entry, name } = sel[i];
        const bytes = await entry.read();
        if (!weights[i].quantization && entry.dtype === 'F32') return bytes;
        const f32 = toFloat32({ dtype: entry.dtype, shape: entry.shape, bytes }, name);
        return weights[i].quantization ? encodeFloat16(f32) : new Uint8Array(f32.buffer);
      },
      describe: async () =>
        ({
          architecture: DETECTOR_ARCHITECTURE,
          dtype: opts.dtype,
          config: cfg.json,
          tiedWeights: {},
          source: await describeSource(dir, set.files, opts.hub),
        }) as unknown as ManifestFields,
    });
  } finally {
    await set.close();
  }
}
