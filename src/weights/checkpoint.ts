/**
 * Node: load a Hugging Face checkpoint folder (config.json + weights) into host tensors.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { configFromHf, type LxmertConfig } from '../config.js';
import { ConfigError, WeightsError } from '../errors.js';
import type { RawTensor } from './raw_tensor.js';
import { readSafetensors } from './safetensors.js';

export interface Checkpoint {
  config: LxmertConfig;
  /** HF state_dict names → tensors. */
  weights: Map<string, RawTensor>;
  /** Where the weights came from (for messages). */
  source: string;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Read and validate `DIR/config.json`. */
export async function readConfigFile(dir: string): Promise<LxmertConfig> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new WeightsError(`cannot read config.json (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, dir);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('(file)', `valid JSON in ${path}`, (e as Error).message);
  }
  return configFromHf(json);
}

/** Load a checkpoint folder holding `config.json` and `model.safetensors`. */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  if (!(await exists(dir))) throw new WeightsError('no such folder', dir);
  const config = await readConfigFile(dir);
  const st = join(dir, 'model.safetensors');
  if (await exists(st)) {
    const buf = new Uint8Array(await readFile(st));
    return { config, weights: readSafetensors(buf, st), source: st };
  }
  throw new WeightsError('no model.safetensors in the folder', dir);
}
