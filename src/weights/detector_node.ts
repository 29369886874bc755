/**
 * Node: load a detector folder into host tensors, whatever it holds: a converted detector
 * (`model.json` + shards, verified and decoded) or a Hugging Face folder (`config.yaml` +
 * `model.safetensors` or `pytorch_model.bin`), checked against the config's inventory.
 */
import { join, resolve } from 'node:path';
import type { FrcnnConfig } from '../detector/index.js';
import { WeightsError } from '../errors.js';
import { readDetectorConfig } from './detector_converter.js';
import { loadConvertedDetector } from './detector_loader.js';
import { selectDetectorWeights } from './detector_weights.js';
import { kindOf } from './fs_util.js';
import { fsReader, nodeSha256 } from './loader_node.js';
import { MANIFEST_FILE, type LxmertManifest } from './manifest.js';
import type { ProgressCallback } from './progress.js';
import { fromFloat32, toFloat32, type RawTensor } from '../codec/raw_tensor.js';
import { openWeights } from './reader.js';

export interface DetectorCheckpoint {
  config: FrcnnConfig;
  /** HF state_dict names → float32 tensors. */
  weights: Map<string, RawTensor>;
  /** Where the weights came from (for messages). */
  source: string;
  /** The manifest, for converted detectors. */
  manifest?: LxmertManifest;
}

export interface LoadDetectorOptions {
  onProgress?: ProgressCallback;
  /** Aborts the load (a converted folder's reads stop). */
  signal?: AbortSignal;
}

/** Load a converted detector folder or a Hugging Face detector folder (or an http(s) URL). */
export async function loadDetector(
  dir: string,
  options: LoadDetectorOptions = {},
): Promise<DetectorCheckpoint> {
  if (/^https?:\/\//.test(dir)) return loadConvertedDetector(dir, options);
  const kind = await kindOf(dir);
  if (kind === undefined) throw new WeightsError('no such folder', dir);
  if (kind !== 'dir') throw new WeightsError('not a folder', dir);
  if ((await kindOf(join(dir, MANIFEST_FILE))) === 'file') {
    const full = resolve(dir);
    const m = await loadConvertedDetector(full, {
      sha256: nodeSha256,
      onProgress: options.onProgress,
      signal: options.signal,
      readFile: fsReader(full),
    });
    return { ...m, source: join(dir, MANIFEST_FILE) };
  }
  const { config } = await readDetectorConfig(dir);
  const set = await openWeights(dir);
  const source = join(dir, set.files[0]);
  const weights = new Map<string, RawTensor>();
  try {
    for (const { name, entry } of selectDetectorWeights(config, set.entries, source)) {
      options.signal?.throwIfAborted();
      const bytes = await entry.read();
      const raw: RawTensor = { dtype: entry.dtype, shape: entry.shape, bytes };
      weights.set(
        name,
        entry.dtype === 'F32' ? raw : fromFloat32(toFloat32(raw, name), entry.shape),
      );
    }
  } finally {
    await set.close();
  }
  return { config, weights, source };
}
