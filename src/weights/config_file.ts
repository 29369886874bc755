/** Node: read and validate a checkpoint folder's `config.json`. */
import { join } from 'node:path';
import { configFromHf, type LxmertConfig } from '../config.js';
import { ConfigError, WeightsError } from '../errors.js';
import { parseJsonGuarded } from '../json_guard.js';
import { limits } from '../limits.js';
import { readTextFile } from '../safe_file.js';

export interface ConfigFile {
  /** The parsed JSON, as written. */
  json: Record<string, unknown>;
  config: LxmertConfig;
  path: string;
}

/**
 * Read `DIR/config.json`: missing, not a regular file, a link leaving DIR or larger than
 * maxConfigBytes → WeightsError; bad JSON (too deep, duplicate keys) or values → ConfigError.
 */
export async function readConfigJson(dir: string): Promise<ConfigFile> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readTextFile(path, {
      root: dir,
      maxBytes: limits().maxConfigBytes,
      limitName: 'maxConfigBytes',
    });
  } catch (e) {
    if (e instanceof WeightsError && /no such file$/.test(e.message))
      throw new WeightsError('no config.json in the folder', dir);
    throw e;
  }
  const json = parseJsonGuarded(text, (msg) => {
    throw new ConfigError('(file)', `valid JSON in ${path}`, msg);
  });
  const config = configFromHf(json);
  return { json: json as Record<string, unknown>, config, path };
}
