/**
 * Load a converted model (`model.json` + shards) over HTTP with fetch, or through any file
 * reader (loader_node.ts passes the file system's). Every file's byte count and sha256 are
 * checked against the manifest; weights come back by HF name as stored (float32, float16, or int8
 * with per-row scales), so packed weights reach the GPU kernels without a float32 detour.
 * Browser-safe: no node: imports (sha256 via crypto.subtle, which browsers offer only in
 * secure contexts: https or localhost).
 */
import { configFromHf, type LxmertConfig } from '../config.js';
import { WeightsError } from '../errors.js';
import {
  MANIFEST_FILE,
  parseManifest,
  weightByteLength,
  type LxmertManifest,
  type ManifestFile,
  type ManifestWeight,
} from './manifest.js';
import type { ProgressCallback } from './progress.js';
import { decodeWeight, type WeightEncoding } from '../codec/encoding.js';
import type { RawTensor } from '../codec/raw_tensor.js';
import { checkWeights, type LxmertArchitecture } from '../model/weight_names.js';

export interface ConvertedModel {
  config: LxmertConfig;
  architecture: LxmertArchitecture;
  /**
   * HF names → host tensors as stored: 'F32', 'F16', or 'I8' with per-row `scales` (`toFloat32`
   * widens any of them); tied names map to the same tensor as their twin.
   */
  weights: Map<string, RawTensor>;
  /** Answer strings by QA label id, when the model has them. */
  labels?: string[];
  /** vocab.txt contents, when the model has one. */
  vocab?: string;
  manifest: LxmertManifest;
  /** Where it was loaded from. */
  source: string;
}

/** Reads one file of the model; reports bytes as they arrive. */
export type FileReader = (path: string, onBytes: (loaded: number) => void) => Promise<Uint8Array>;

export interface LoadOptions {
  /** Default globalThis.fetch. */
  fetch?: typeof fetch;
  onProgress?: ProgressCallback;
  /** Read files through this instead of fetch (paths relative to the model folder). */
  readFile?: FileReader;
  /** sha256 in lower-case hex (default crypto.subtle). */
  sha256?: (bytes: Uint8Array) => Promise<string>;
}

async function subtleSha256(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle)
    throw new WeightsError(
      'crypto.subtle is unavailable (not a secure context?): cannot verify shards',
    );
  const d = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A reader over fetch, relative to `base` (a folder URL ending in '/'). */
export function fetchReader(base: URL, fetchFn: typeof fetch): FileReader {
  return async (path, onBytes) => {
    const url = new URL(path, base);
    let res: Response;
    try {
      res = await fetchFn(url);
    } catch (e) {
      throw new WeightsError(`cannot fetch (${(e as Error).message})`, url.href);
    }
    if (!res.ok) throw new WeightsError(`HTTP ${res.status} ${res.statusText}`.trim(), url.href);
    if (!res.body) return new Uint8Array(await res.arrayBuffer());
    const chunks: Uint8Array[] = [];
    let loaded = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      onBytes(loaded);
    }
    const out = new Uint8Array(loaded);
    let p = 0;
    for (const c of chunks) {
      out.set(c, p);
      p += c.byteLength;
    }
    return out;
  };
}

function decode(w: ManifestWeight, bytes: Uint8Array): RawTensor {
  const encoding: WeightEncoding = w.quantization?.dtype ?? 'float32';
  return decodeWeight(encoding, bytes, w.shape, w.name);
}

/**
 * Load a converted model. `source`: a folder URL or the model.json URL (fetch), or, with
 * `options.readFile`, any base the reader understands (loader_node.ts: a folder path).
 */
export async function loadConverted(
  source: string | URL,
  options: LoadOptions = {},
): Promise<ConvertedModel> {
  const href = source instanceof URL ? source.href : source;
  let read = options.readFile;
  if (!read) {
    let base: URL;
    try {
      base = new URL(href.endsWith(MANIFEST_FILE) ? href : href.replace(/\/?$/, '/'));
    } catch {
      throw new WeightsError('not a URL; in Node use loadConvertedDir for folders', href);
    }
    read = fetchReader(base, options.fetch ?? globalThis.fetch);
  }
  const sha256 = options.sha256 ?? subtleSha256;
  const progress = options.onProgress;
  const text = new TextDecoder().decode(await read(MANIFEST_FILE, () => undefined));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WeightsError(`model.json is not valid JSON (${(e as Error).message})`, href);
  }
  const manifest = parseManifest(json, `${href}: model.json`);
  if ((manifest.architecture as string) === 'GeneralizedRCNN') {
    throw new WeightsError(
      'a detector (GeneralizedRCNN), not LXMERT: use loadConvertedDetector',
      href,
    );
  }
  const config = configFromHf(manifest.config);
  const arch = manifest.architecture;
  const group = manifest.weightsManifest[0];
  const shapes = new Map(group.weights.map((w) => [w.name, w]));
  checkWeights(config, arch, shapes, `${href}: model.json`);

  const files: ManifestFile[] = [...manifest.shards];
  if (manifest.vocab) files.push(manifest.vocab);
  if (manifest.labels) files.push(manifest.labels);
  for (const f of files)
    progress?.({ status: 'initiate', file: f.path, loaded: 0, total: f.bytes });
  const fetchVerified = async (f: ManifestFile): Promise<Uint8Array> => {
    progress?.({ status: 'download', file: f.path, loaded: 0, total: f.bytes });
    const bytes = await read(f.path, (loaded) =>
      progress?.({ status: 'progress', file: f.path, loaded, total: f.bytes }),
    );
    if (bytes.byteLength !== f.bytes) {
      throw new WeightsError(
        `${bytes.byteLength} bytes, model.json says ${f.bytes}`,
        `${href}: ${f.path}`,
      );
    }
    const digest = await sha256(bytes);
    if (digest !== f.sha256) {
      throw new WeightsError(
        `sha256 ${digest} differs from model.json's ${f.sha256} (corrupt or changed file)`,
        `${href}: ${f.path}`,
      );
    }
    progress?.({ status: 'done', file: f.path, loaded: f.bytes, total: f.bytes });
    return bytes;
  };

  // Weights are concatenated across shards: fill one weight at a time, decode when complete.
  const weights = new Map<string, RawTensor>();
  let wi = 0;
  let buf = new Uint8Array(group.weights.length ? weightByteLength(group.weights[0]) : 0);
  let filled = 0;
  const advance = () => {
    while (wi < group.weights.length && filled === buf.byteLength) {
      weights.set(group.weights[wi].name, decode(group.weights[wi], buf));
      wi++;
      filled = 0;
      buf = new Uint8Array(wi < group.weights.length ? weightByteLength(group.weights[wi]) : 0);
    }
  };
  advance();
  for (const shard of manifest.shards) {
    const bytes = await fetchVerified(shard);
    let p = 0;
    while (p < bytes.byteLength) {
      const n = Math.min(bytes.byteLength - p, buf.byteLength - filled);
      buf.set(bytes.subarray(p, p + n), filled);
      filled += n;
      p += n;
      advance();
    }
  }
  if (wi !== group.weights.length) throw new WeightsError('shards end before the weights do', href);
  for (const [tied, twin] of Object.entries(manifest.tiedWeights)) {
    const t = weights.get(twin);
    if (t) weights.set(tied, t);
  }
  const out: ConvertedModel = { config, architecture: arch, weights, manifest, source: href };
  if (manifest.vocab) out.vocab = new TextDecoder().decode(await fetchVerified(manifest.vocab));
  if (manifest.labels) {
    const bytes = await fetchVerified(manifest.labels);
    let labels: unknown;
    try {
      labels = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      labels = undefined;
    }
    if (
      !Array.isArray(labels) ||
      labels.length !== manifest.labels.count ||
      labels.some((s) => typeof s !== 'string')
    ) {
      throw new WeightsError(
        `not an array of ${manifest.labels.count} strings`,
        `${href}: ${manifest.labels.path}`,
      );
    }
    out.labels = labels as string[];
  }
  progress?.({ status: 'ready', file: MANIFEST_FILE, loaded: 0, total: undefined });
  return out;
}
