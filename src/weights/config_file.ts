/** Node: read and validate a checkpoint folder's `config.json`. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configFromHf, type LxmertConfig } from '../config.js';
import { ConfigError, WeightsError } from '../errors.js';

export interface ConfigFile {
  /** The parsed JSON, as written. */
  json: Record<string, unknown>;
  config: LxmertConfig;
  path: string;
}

/** Read `DIR/config.json`: missing → WeightsError, bad JSON or values → ConfigError. */
export async function readConfigJson(dir: string): Promise<ConfigFile> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WeightsError(
      code === 'ENOENT'
        ? 'no config.json in the folder'
        : `cannot read config.json (${code ?? (e as Error).message})`,
      dir,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('(file)', `valid JSON in ${path}`, (e as Error).message);
  }
  const config = configFromHf(json);
  return { json: json as Record<string, unknown>, config, path };
}
