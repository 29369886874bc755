/**
 * `model.json` of a converted model: a TensorFlow.js weights manifest (`weightsManifest`
 * with `paths` and `weights[{name, shape, dtype, quantization?}]`) plus what LXMERT needs:
 * the HF config, vocab and labels files, the sha256 of every file and where the weights came
 * from. Described for users in weights/README.md. Browser-safe.
 */
import { WeightsError } from '../errors.js';
import { TIED_WEIGHTS, type LxmertArchitecture } from '../model/weight_names.js';
import { encodedByteLength } from '../codec/encoding.js';

/** The architectures a converted model may name. */
export const MANIFEST_ARCHITECTURES: readonly LxmertArchitecture[] = [
  'LxmertModel',
  'LxmertForPreTraining',
  'LxmertForQuestionAnswering',
];

/** Which tensors the int8 mode quantizes: every rank-2 `*.weight` (Linear and embeddings). */
export function quantizesToInt8(name: string, shape: readonly number[]): boolean {
  return shape.length === 2 && name.endsWith('.weight') && shape[0] > 0 && shape[1] > 0;
}

export const MANIFEST_FORMAT = 'lxmert-web';
export const MANIFEST_VERSION = 1;
export const MANIFEST_FILE = 'model.json';

export const OUTPUT_DTYPES = ['float32', 'float16', 'int8'] as const;
export type OutputDtype = (typeof OUTPUT_DTYPES)[number];

/**
 * How a weight is stored. `float16` is tf.js's own; `int8` is ours (tf.js has only per-tensor
 * uint8/uint16 affine quantization): `scaleBytes` float32 scales (one per row of axis 0) then
 * the int8 values, see src/codec/int8.ts.
 */
export type Quantization =
  | { dtype: 'float16' }
  | {
      dtype: 'int8';
      scheme: 'symmetric-per-row';
      axis: 0;
      scaleDtype: 'float32';
      scaleBytes: number;
    };

export interface ManifestWeight {
  name: string;
  shape: number[];
  /** The dtype after dequantization (tf.js convention). */
  dtype: 'float32';
  quantization?: Quantization;
}

export interface ManifestFile {
  /** Plain file name in the model folder. */
  path: string;
  bytes: number;
  /** Lower-case hex. */
  sha256: string;
}

export type ManifestSource =
  | {
      kind: 'hub';
      endpoint: string;
      repo: string;
      revision: string;
      commit?: string;
      files: ManifestFile[];
    }
  | { kind: 'local'; path: string; files: ManifestFile[] };

export interface LxmertManifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  modelTopology: null;
  /** One group; its `paths` are the shards in order, the weights concatenated across them. */
  weightsManifest: { paths: string[]; weights: ManifestWeight[] }[];
  architecture: LxmertArchitecture;
  dtype: OutputDtype;
  /** The HF config.json as read. */
  config: Record<string, unknown>;
  shards: ManifestFile[];
  vocab?: ManifestFile;
  /** A JSON array of answer strings, index = QA label id. */
  labels?: ManifestFile & { count: number };
  /** Names stored once: `{tied name: stored name}`. */
  tiedWeights: Record<string, string>;
  source: ManifestSource;
  converter: { name: string; version: string };
}

/** Bytes a weight takes in the shards. */
export function weightByteLength(w: ManifestWeight): number {
  return encodedByteLength(w.quantization?.dtype ?? 'float32', w.shape);
}

const PLAIN = /^[\w][\w.-]*$/;
const HEX64 = /^[0-9a-f]{64}$/;

function fail(msg: string, where: string): never {
  throw new WeightsError(`invalid model.json: ${msg}`, where);
}

function checkFile(f: unknown, what: string, where: string): ManifestFile {
  const o = f as ManifestFile | null;
  if (typeof o !== 'object' || o === null) fail(`${what} is not an object`, where);
  if (typeof o.path !== 'string' || !PLAIN.test(o.path))
    fail(`${what}.path is not a plain file name`, where);
  if (!Number.isSafeInteger(o.bytes) || o.bytes < 0)
    fail(`${what}.bytes is not a byte count`, where);
  if (typeof o.sha256 !== 'string' || !HEX64.test(o.sha256))
    fail(`${what}.sha256 is not 64 hex digits`, where);
  return o;
}

/**
 * Validate a parsed model.json: format and version, a known architecture, plain file names,
 * shapes, each weight's quantization matching the file's dtype, shard list matching `paths`,
 * shard bytes adding up to the weights' bytes, and tied weights that are the model's own tied
 * pairs (never an alias of an arbitrary weight). All before any shard is read.
 */
export function parseManifest(json: unknown, where: string): LxmertManifest {
  const m = json as LxmertManifest | null;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) fail('not a JSON object', where);
  if (m.format !== MANIFEST_FORMAT)
    fail(`format is ${JSON.stringify(m.format)}, expected "${MANIFEST_FORMAT}"`, where);
  if (m.version !== MANIFEST_VERSION)
    fail(`version ${JSON.stringify(m.version)} is not supported (1 is)`, where);
  if (typeof m.config !== 'object' || m.config === null) fail('no config object', where);
  if (!(OUTPUT_DTYPES as readonly string[]).includes(m.dtype))
    fail(`dtype ${JSON.stringify(m.dtype)}`, where);
  // The detector (weights/detector_*.ts) checks its own weights' encodings against its config.
  const detector = (m.architecture as string) === 'GeneralizedRCNN';
  if (!detector && !MANIFEST_ARCHITECTURES.includes(m.architecture)) {
    fail(
      `architecture ${JSON.stringify(m.architecture)} is not one of ${MANIFEST_ARCHITECTURES.join(', ')}`,
      where,
    );
  }
  if (!Array.isArray(m.weightsManifest) || m.weightsManifest.length !== 1) {
    fail('weightsManifest must hold exactly one group', where);
  }
  const group = m.weightsManifest[0];
  if (!Array.isArray(group.paths) || !Array.isArray(group.weights))
    fail('group without paths/weights', where);
  if (!Array.isArray(m.shards) || m.shards.length !== group.paths.length) {
    fail('shards do not match weightsManifest paths', where);
  }
  m.shards.forEach((s, i) => {
    checkFile(s, `shards[${i}]`, where);
    if (s.path !== group.paths[i]) fail(`shards[${i}].path differs from paths[${i}]`, where);
  });
  let total = 0;
  const names = new Set<string>();
  for (const w of group.weights) {
    const wn = `weight ${JSON.stringify(w?.name)}`;
    if (typeof w?.name !== 'string' || names.has(w.name))
      fail(`${wn}: missing or duplicate name`, where);
    names.add(w.name);
    if (!Array.isArray(w.shape) || w.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail(`${wn}: shape is not a list of non-negative integers`, where);
    }
    if (w.dtype !== 'float32')
      fail(`${wn}: dtype ${JSON.stringify(w.dtype)} (float32 expected)`, where);
    const q = w.quantization;
    if (q !== undefined) {
      const ok =
        q?.dtype === 'float16' ||
        (q?.dtype === 'int8' &&
          q.scheme === 'symmetric-per-row' &&
          q.axis === 0 &&
          q.scaleDtype === 'float32' &&
          w.shape.length === 2 &&
          q.scaleBytes === w.shape[0] * 4);
      if (!ok) fail(`${wn}: unsupported quantization ${JSON.stringify(q)}`, where);
    }
    // The file's dtype says how every weight is stored; a weight saying otherwise is refused.
    const want =
      m.dtype === 'float16'
        ? 'float16'
        : m.dtype === 'int8' && quantizesToInt8(w.name, w.shape)
          ? 'int8'
          : 'float32';
    const got = q?.dtype ?? 'float32';
    if (got !== want && !detector) {
      fail(`${wn}: stored as ${got}, but a ${m.dtype} model stores it as ${want}`, where);
    }
    total += weightByteLength(w);
  }
  const shardBytes = m.shards.reduce((a, s) => a + s.bytes, 0);
  if (shardBytes !== total)
    fail(`shards hold ${shardBytes} bytes, the weights need ${total}`, where);
  if (m.vocab !== undefined) checkFile(m.vocab, 'vocab', where);
  if (m.labels !== undefined) {
    checkFile(m.labels, 'labels', where);
    if (!Number.isSafeInteger(m.labels.count)) fail('labels.count is not an integer', where);
  }
  if (typeof m.tiedWeights !== 'object' || m.tiedWeights === null || Array.isArray(m.tiedWeights))
    fail('no tiedWeights object', where);
  for (const [tied, twin] of Object.entries(m.tiedWeights as Record<string, unknown>)) {
    const at = `tiedWeights[${JSON.stringify(tied)}]`;
    if (!Object.hasOwn(TIED_WEIGHTS, tied) || TIED_WEIGHTS[tied] !== twin) {
      fail(
        `${at} = ${JSON.stringify(twin)} is not a tied pair of the model ` +
          `(${Object.entries(TIED_WEIGHTS)
            .map(([a, b]) => `${a} → ${b}`)
            .join(', ')})`,
        where,
      );
    }
    if (names.has(tied)) fail(`${at}: the tied name is also stored as a weight`, where);
    if (!names.has(twin)) fail(`${at}: its twin ${JSON.stringify(twin)} is not stored`, where);
  }
  return m;
}

/**
 * How a converted model's Linear weights and embeddings should be stored on the GPU: as they
 * were converted (float16 and int8 stay packed), float32 otherwise. For buildModel's
 * `weightFormat`.
 */
export function gpuWeightFormat(
  manifest: Pick<LxmertManifest, 'dtype'> | undefined,
): 'f32' | 'f16' | 'int8' {
  const dtype = manifest?.dtype;
  return dtype === 'float16' ? 'f16' : dtype === 'int8' ? 'int8' : 'f32';
}
