/**
 * Load a converted detector (`model.json` with `architecture: "GeneralizedRCNN"` + shards) through
 * the same streaming code as loadConverted (loader.ts openFolder): every file's byte count and
 * sha256 checked against the manifest, the shard store, retries, progress and cancellation; the
 * weights checked against the config's inventory before any shard is read, and returned as
 * float32 by HF name. Browser-safe.
 */
import { parseFrcnnConfig, type FrcnnConfig } from '../detector/index.js';
import { WeightsError } from '../errors.js';
import { openFolder, type LoadOptions, type Opened } from './loader.js';
import { MANIFEST_FILE, type LxmertManifest, type ManifestWeight } from './manifest.js';
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

/** A detector's model.json read and checked, its weights not yet (see OpenedFolder). */
export type OpenedDetector = Opened<ConvertedDetector, FrcnnConfig>;

/**
 * Read a converted detector's model.json and check its inventory (names, shapes, storage) before
 * any shard is read; `load()` then streams the weights through the loader's one streaming
 * implementation (fetch or reader, retries, sha256, the shard store, progress, `signal`).
 */
export async function openConvertedDetector(
  source: string | URL,
  options: LoadOptions = {},
): Promise<OpenedDetector> {
  const folder = await openFolder(source, options);
  const { href, manifest } = folder;
  const where = `${href}: model.json`;
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
  const load = async (): Promise<ConvertedDetector> => {
    const { weights } = await folder.stream(decode);
    options.onProgress?.({ status: 'ready', file: MANIFEST_FILE, loaded: 0, total: undefined });
    return { config, weights, manifest, source: href };
  };
  return { source: href, manifest, config, files: folder.files, announce: folder.announce, load };
}

/**
 * Load a converted detector. `source`: a folder URL or the model.json URL (fetch), or, with
 * `options.readFile`, any base the reader understands (detector_node.ts: a folder path).
 */
export async function loadConvertedDetector(
  source: string | URL,
  options: LoadOptions = {},
): Promise<ConvertedDetector> {
  return (await openConvertedDetector(source, options)).load();
}
