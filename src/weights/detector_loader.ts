/**
 * Load a converted detector (`model.json` with `architecture: "GeneralizedRCNN"` + shards) over
 * fetch or through any FileReader, as loadConverted does for LXMERT: every file's byte count
 * and sha256 checked against the manifest, the weights checked against the config's inventory
 * before any shard is read, and returned as float32 by HF name. Browser-safe.
 */
import { parseFrcnnConfig, type FrcnnConfig } from '../detector/index.js';
import { WeightsError } from '../errors.js';
import { fetchReader, type FileReader, type LoadOptions } from './loader.js';
import {
  MANIFEST_FILE,
  parseManifest,
  weightByteLength,
  type LxmertManifest,
  type ManifestFile,
  type ManifestWeight,
} from './manifest.js';
import { decodeFloat16, float16Bits } from '../codec/float16.js';
import { fromFloat32, type RawTensor } from '../codec/raw_tensor.js';
import {
  DETECTOR_ARCHITECTURE,
  detectorQuantization,
  selectDetectorWeights,
} from './detector_weights.js';

export interface ConvertedDetector {
  config: FrcnnConfig;
  /** HF state_dict names → float32 tensors (BatchNorm not folded yet). */
  weights: Map<string, RawTensor>;
  manifest: LxmertManifest;
  source: string;
}

async function subtleSha256(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new WeightsError(
      'crypto.subtle is unavailable (not a secure context?): cannot verify shards',
    );
  }
  const d = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

function decode(w: ManifestWeight, bytes: Uint8Array): RawTensor {
  if (w.quantization?.dtype === 'float16')
    return fromFloat32(decodeFloat16(float16Bits(bytes)), w.shape);
  if (w.quantization) {
    throw new WeightsError(`unsupported quantization ${JSON.stringify(w.quantization)}`, w.name);
  }
  const f = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(f.buffer).set(bytes);
  return fromFloat32(f, w.shape);
}

/** The detector config of a parsed manifest (its `config` is the YAML document as JSON). */
export function detectorConfigOf(manifest: LxmertManifest, where: string): FrcnnConfig {
  if ((manifest.architecture as string) !== DETECTOR_ARCHITECTURE) {
    throw new WeightsError(
      `architecture ${JSON.stringify(manifest.architecture)} is not a detector (${DETECTOR_ARCHITECTURE}); load LXMERT models with loadConverted`,
      where,
    );
  }
  // JSON is YAML: the config parser reads the stored document as it reads config.yaml.
  return parseFrcnnConfig(JSON.stringify(manifest.config), where);
}

/**
 * Load a converted detector. `source`: a folder URL or the model.json URL (fetch), or, with
 * `options.readFile`, any base the reader understands (detector_node.ts: a folder path).
 */
export async function loadConvertedDetector(
  source: string | URL,
  options: LoadOptions = {},
): Promise<ConvertedDetector> {
  const href = source instanceof URL ? source.href : source;
  let read: FileReader | undefined = options.readFile;
  if (!read) {
    let base: URL;
    try {
      base = new URL(href.endsWith(MANIFEST_FILE) ? href : href.replace(/\/?$/, '/'));
    } catch {
      throw new WeightsError('not a URL; in Node use loadDetector for folders', href);
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
  const where = `${href}: model.json`;
  const manifest = parseManifest(json, where);
  const config = detectorConfigOf(manifest, where);
  const group = manifest.weightsManifest[0];
  for (const w of group.weights) {
    const want = detectorQuantization(w.name, w.shape, manifest.dtype)?.dtype ?? 'float32';
    const got = w.quantization?.dtype ?? 'float32';
    if (got !== want) {
      throw new WeightsError(
        `weight ${JSON.stringify(w.name)}: stored as ${got}, but a ${manifest.dtype} detector stores it as ${want}`,
        where,
      );
    }
  }
  selectDetectorWeights(
    config,
    new Map(group.weights.map((w) => [w.name, { ...w, dtype: 'F32' as const }])),
    where,
  );

  for (const f of manifest.shards)
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
    for (let p = 0; p < bytes.byteLength;) {
      const n = Math.min(bytes.byteLength - p, buf.byteLength - filled);
      buf.set(bytes.subarray(p, p + n), filled);
      filled += n;
      p += n;
      advance();
    }
  }
  if (wi !== group.weights.length) throw new WeightsError('shards end before the weights do', href);
  progress?.({ status: 'ready', file: MANIFEST_FILE, loaded: 0, total: undefined });
  return { config, weights, manifest, source: href };
}
