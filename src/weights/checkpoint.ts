/**
 * Node: load a model folder into host tensors, whatever it holds: a converted model
 * (`model.json` + shards, verified, float16/int8 kept packed) or a Hugging Face checkpoint folder
 * (`config.json` + `model.safetensors`, `pytorch_model.bin` in zip or legacy format, TF
 * `tf_model.h5`, or a sharded `*.index.json`).
 */
import { join } from 'node:path';
import type { LxmertConfig } from '../config.js';
import { WeightsError } from '../errors.js';
import { limits } from '../limits.js';
import { readTextFile } from '../safe_file.js';
import { architectureOf, type LxmertArchitecture } from '../model/weight_names.js';
import { readConfigJson } from './config_file.js';
import { checkFinite, float32View } from './finite.js';
import { exists, kindOf } from './fs_util.js';
import { resolveLabels } from './labels.js';
import { loadConvertedDir } from './loader_node.js';
import { MANIFEST_FILE, type LxmertManifest } from './manifest.js';
import type { ProgressCallback } from './progress.js';
import { fromFloat32, toFloat32, type RawTensor } from '../codec/raw_tensor.js';
import { checkNoExtraVariables } from './h5_select.js';
import { openWeights, type WeightsFramework } from './reader.js';
import { hasQaHead, selectWeights } from './select.js';

export interface Checkpoint {
  config: LxmertConfig;
  /**
   * HF state_dict names → host tensors: float32 for HF folders; as stored for converted models
   * (float32, float16, or int8 with per-row scales). Tied names share their twin's tensor.
   */
  weights: Map<string, RawTensor>;
  /** Where the weights came from (for messages). */
  source: string;
  architecture: LxmertArchitecture;
  /** Answer strings by QA label id, when known. */
  labels?: string[];
  /** vocab.txt contents, when the folder has one. */
  vocab?: string;
  /** The manifest, for converted models. */
  manifest?: LxmertManifest;
}

/** Read and validate `DIR/config.json`. */
export async function readConfigFile(dir: string): Promise<LxmertConfig> {
  return (await readConfigJson(dir)).config;
}

export interface LoadCheckpointOptions {
  /** Progress of a converted model's shards. */
  onProgress?: ProgressCallback;
  /** Which weights to read when a HF folder has PyTorch and TF ones (default 'pt'). */
  from?: WeightsFramework;
  /** Aborts loading a converted model. */
  signal?: AbortSignal;
}

/** Load a converted model folder or a Hugging Face checkpoint folder. */
export async function loadCheckpoint(
  dir: string,
  options: LoadCheckpointOptions = {},
): Promise<Checkpoint> {
  const kind = await kindOf(dir);
  if (kind === undefined) throw new WeightsError('no such folder', dir);
  if (kind !== 'dir') throw new WeightsError('not a folder', dir);
  if (await exists(join(dir, MANIFEST_FILE))) {
    const m = await loadConvertedDir(dir, {
      onProgress: options.onProgress,
      signal: options.signal,
    });
    const out: Checkpoint = {
      config: m.config,
      weights: m.weights,
      source: join(dir, MANIFEST_FILE),
      architecture: m.architecture,
      manifest: m.manifest,
    };
    if (m.labels) out.labels = m.labels;
    if (m.vocab !== undefined) out.vocab = m.vocab;
    return out;
  }
  if (
    (await kindOf(join(dir, 'config.yaml'))) === 'file' &&
    !(await kindOf(join(dir, 'config.json')))
  ) {
    throw new WeightsError('a detector folder (config.yaml), not LXMERT: use loadDetector', dir);
  }
  const { config } = await readConfigJson(dir);
  const arch = architectureOf(config);
  const set = await openWeights(dir, options.from);
  const source = join(dir, set.files[0]);
  const weights = new Map<string, RawTensor>();
  try {
    if (set.format === 'tf-h5') checkNoExtraVariables(config, arch, set.entries, source);
    const sel = selectWeights(config, arch, set.entries, source);
    for (const { name, entry } of sel.weights) {
      const bytes = await entry.read();
      const raw: RawTensor = { dtype: entry.dtype, shape: entry.shape, bytes };
      const f32 = entry.dtype === 'F32' ? float32View(bytes) : toFloat32(raw, name);
      checkFinite(f32, raw, name, source);
      weights.set(name, entry.dtype === 'F32' ? raw : fromFloat32(f32, entry.shape));
    }
    for (const [tied, twin] of Object.entries(sel.tied)) weights.set(tied, weights.get(twin)!);
  } finally {
    await set.close();
  }
  const out: Checkpoint = { config, weights, source, architecture: arch };
  if (hasQaHead(config, arch)) {
    const labels = await resolveLabels(config, undefined);
    if (labels) out.labels = labels.labels;
  }
  if (await exists(join(dir, 'vocab.txt'))) {
    out.vocab = await readTextFile(join(dir, 'vocab.txt'), {
      root: dir,
      maxBytes: limits().maxVocabBytes,
      limitName: 'maxVocabBytes',
    });
  }
  return out;
}
