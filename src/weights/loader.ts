/**
 * Load a converted model (`model.json` + shards) over HTTP with fetch, or through any file
 * reader (loader_node.ts passes the file system's). Shards stream in with bounded concurrency;
 * each one's byte count and sha256 are checked against the manifest as it arrives and its
 * weights are decoded then (`onWeight` sees each as soon as it is complete), so the work after
 * the last byte is small. A content-addressed ShardStore (src/app's Cache Storage) is read
 * before the network and filled as shards are verified; a corrupt stored shard is evicted and
 * fetched again. Weights come back by HF name as stored (float32, float16, or int8 with per-row
 * scales), so packed weights reach the GPU kernels without a float32 detour.
 * Browser-safe: no node: imports (sha256 via crypto.subtle, which browsers offer only in
 * secure contexts: https or localhost).
 */
import { configFromHf, type LxmertConfig } from '../config.js';
import { WeightsError } from '../errors.js';
import { fetchReader, type FetchReaderOptions, type FileReader } from './fetch_reader.js';
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

export { fetchReader, type FileReader, type FetchReaderOptions };

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

/**
 * Content-addressed storage of verified files (shards by their sha256) and of manifests by URL.
 * Every method may throw (quota, storage disabled): the loader then warns and goes on without it.
 */
export interface ShardStore {
  /** Bytes stored under `sha256`, or undefined. They are verified before use. */
  get(sha256: string): Promise<Uint8Array | undefined>;
  put(sha256: string, bytes: Uint8Array): Promise<void>;
  delete(sha256: string): Promise<void>;
  /** The model.json text last seen at `url` (used when the network fails). */
  getManifest?(url: string): Promise<string | undefined>;
  putManifest?(url: string, text: string): Promise<void>;
}

export interface LoadOptions {
  /** Default globalThis.fetch. */
  fetch?: typeof fetch;
  onProgress?: ProgressCallback;
  /** Read files through this instead of fetch (paths relative to the model folder). */
  readFile?: FileReader;
  /**
   * How files under a URL are read when there is no `readFile` (default: fetchReader over
   * `fetch` with `retry`); src/app passes one that fetches and hashes in another thread.
   */
  reader?: (base: URL) => FileReader;
  /** sha256 in lower-case hex (default crypto.subtle). */
  sha256?: (bytes: Uint8Array) => Promise<string>;
  /** Aborts fetches and the load; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Shards fetched at once (default 4). */
  concurrency?: number;
  /** Retries, backoff and stall timeout of the fetch reader. */
  retry?: FetchReaderOptions;
  /** Verified shards are read from and written to this store (see ShardStore). */
  store?: ShardStore;
  /** Non-fatal problems (a store that fails, a manifest served from the store); default none. */
  onWarning?: (message: string) => void;
  /** Called with each weight as soon as its last byte has arrived and been verified. */
  onWeight?: (name: string, tensor: RawTensor) => void;
}

/** sha256 in lower-case hex with SubtleCrypto (the loaders' default). */
export async function subtleSha256(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle)
    throw new WeightsError(
      'crypto.subtle is unavailable (not a secure context?): cannot verify shards',
    );
  const d = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The largest file the loader accepts (converter shards are 4 MiB). */
export const MAX_FILE_BYTES = 2 ** 31 - 1;

function decode(w: ManifestWeight, bytes: Uint8Array): RawTensor {
  const encoding: WeightEncoding = w.quantization?.dtype ?? 'float32';
  return decodeWeight(encoding, bytes, w.shape, w.name);
}

/** A converted folder whose model.json has been read (see openFolder). */
export interface OpenedFolder {
  /** The source as given (a URL or a folder). */
  href: string;
  manifest: LxmertManifest;
  /** Every file the load reads after model.json (shards, then vocab/labels), with sizes. */
  files: readonly ManifestFile[];
  /**
   * Emit `initiate` for every file (once; stream() does it when not done), so that a caller
   * loading several folders can announce all their totals before any byte flows.
   */
  announce(): void;
  /**
   * Stream the shards (`concurrency` at a time, each length- and sha256-checked, through the
   * store) and decode every weight with `decode` the moment its last byte is in; the files
   * after the shards come back as bytes. The caller emits `ready` once it has checked them.
   */
  stream(
    decode: (w: ManifestWeight, bytes: Uint8Array) => RawTensor,
  ): Promise<{ weights: Map<string, RawTensor>; extras: Uint8Array[] }>;
}

/**
 * Read and parse a converted folder's model.json: the one streaming implementation behind
 * loadConverted and loadConvertedDetector (fetch or any reader, retries, sha256, the shard
 * store, progress, cancellation). `extrasOf` names the files read after the shards.
 */
export async function openFolder(
  source: string | URL,
  options: LoadOptions,
  extrasOf: (manifest: LxmertManifest) => ManifestFile[] = () => [],
): Promise<OpenedFolder> {
  const href = source instanceof URL ? source.href : source;
  options.signal?.throwIfAborted();
  // Aborted by the caller, or by us when one file fails (the others in flight stop too).
  const inner = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, inner.signal]) : inner.signal;
  let read = options.readFile;
  let manifestUrl = href;
  if (!read) {
    let base: URL;
    try {
      base = new URL(href.endsWith(MANIFEST_FILE) ? href : href.replace(/\/?$/, '/'));
    } catch {
      throw new WeightsError(
        'not a URL (in Node, load folders with loadConvertedDir or loadDetector)',
        href,
      );
    }
    manifestUrl = new URL(MANIFEST_FILE, base).href;
    read = options.reader
      ? options.reader(base)
      : fetchReader(base, options.fetch ?? globalThis.fetch, options.retry);
  }
  const reader = read;
  const sha256 = options.sha256 ?? subtleSha256;
  const progress = options.onProgress;
  const warn = options.onWarning ?? (() => undefined);
  let store = options.store;
  const storeFailed = (what: string, e: unknown) => {
    warn(`cache ${what} failed (${(e as Error)?.message ?? e}); going on without the cache`);
    store = undefined;
  };

  const text = await readManifest(reader, manifestUrl, store, warn, signal);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WeightsError(`model.json is not valid JSON (${(e as Error).message})`, href);
  }
  const manifest = parseManifest(json, `${href}: model.json`);
  const files: ManifestFile[] = [...manifest.shards, ...extrasOf(manifest)];
  for (const f of files) {
    if (f.bytes > MAX_FILE_BYTES)
      throw new WeightsError(
        `model.json gives ${f.bytes} bytes (over 2 GiB)`,
        `${href}: ${f.path}`,
      );
  }
  let announced = false;
  const announce = () => {
    if (announced) return;
    announced = true;
    for (const f of files)
      progress?.({ status: 'initiate', file: f.path, loaded: 0, total: f.bytes });
  };

  const verify = async (f: ManifestFile, bytes: Uint8Array): Promise<string | null> => {
    if (bytes.byteLength !== f.bytes)
      return `${bytes.byteLength} bytes, model.json says ${f.bytes}`;
    const digest = await sha256(bytes);
    if (digest !== f.sha256) {
      return `sha256 ${digest} differs from model.json's ${f.sha256} (corrupt or changed file)`;
    }
    return null;
  };
  /** One verified file: from the store when it holds it intact, else read (and stored). */
  const fetchVerified = async (f: ManifestFile): Promise<Uint8Array> => {
    if (store) {
      let cached: Uint8Array | undefined;
      try {
        cached = await store.get(f.sha256);
      } catch (e) {
        storeFailed('read', e);
      }
      if (cached) {
        const bad = await verify(f, cached);
        if (!bad) {
          progress?.({
            status: 'done',
            file: f.path,
            loaded: f.bytes,
            total: f.bytes,
            cached: true,
          });
          return cached;
        }
        warn(`${href}: ${f.path}: the cached copy is corrupt (${bad}); fetching it again`);
        await store?.delete(f.sha256).catch((e: unknown) => storeFailed('delete', e));
      }
    }
    signal.throwIfAborted();
    progress?.({ status: 'download', file: f.path, loaded: 0, total: f.bytes });
    const bytes = await reader(
      f.path,
      (loaded) => progress?.({ status: 'progress', file: f.path, loaded, total: f.bytes }),
      f.bytes,
      signal,
    );
    const bad = await verify(f, bytes);
    if (bad) throw new WeightsError(bad, `${href}: ${f.path}`);
    if (store) await store.put(f.sha256, bytes).catch((e: unknown) => storeFailed('write', e));
    progress?.({ status: 'done', file: f.path, loaded: f.bytes, total: f.bytes });
    return bytes;
  };

  const stream: OpenedFolder['stream'] = async (decode) => {
    announce();
    signal.throwIfAborted();
    const group = manifest.weightsManifest[0];
    // Shards are fetched `concurrency` at a time and consumed in order: the weights are
    // concatenated across them, so each weight is decoded the moment its last byte is in. A
    // weight inside one shard is decoded from a view on the shard's bytes (no copy); only one
    // that spans shards is gathered into a buffer of its own.
    const weights = new Map<string, RawTensor>();
    let wi = 0;
    let buf: Uint8Array | null = null; // the spanning weight being gathered
    let filled = 0;
    const emit = (bytes: Uint8Array) => {
      const w = group.weights[wi];
      const t = decode(w, bytes);
      weights.set(w.name, t);
      options.onWeight?.(w.name, t);
      wi++;
    };
    /** Consume `bytes` (the next shard's) into the weights they complete. */
    const consume = (bytes: Uint8Array) => {
      let p = 0;
      for (;;) {
        // weights of no bytes, and those that lie wholly in what is left
        while (wi < group.weights.length && !buf) {
          const n = weightByteLength(group.weights[wi]);
          if (n > bytes.byteLength - p) break;
          emit(bytes.subarray(p, p + n));
          p += n;
        }
        if (p >= bytes.byteLength || wi >= group.weights.length) break;
        buf ??= new Uint8Array(weightByteLength(group.weights[wi]));
        const n = Math.min(bytes.byteLength - p, buf.byteLength - filled);
        buf.set(bytes.subarray(p, p + n), filled);
        filled += n;
        p += n;
        if (filled === buf.byteLength) {
          emit(buf);
          buf = null;
          filled = 0;
        }
      }
      if (p < bytes.byteLength)
        throw new WeightsError('shards hold more bytes than the weights', href);
    };
    const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
    const pending: Promise<Uint8Array>[] = [];
    const start = (i: number) => {
      if (i >= manifest.shards.length) return;
      const p = fetchVerified(manifest.shards[i]);
      p.catch(() => undefined); // awaited in order below; a later one's failure must not go unhandled
      pending[i] = p;
    };
    // Extra files (vocab, labels) ride along with the first window.
    const extras = files.slice(manifest.shards.length).map((f) => {
      const p = fetchVerified(f);
      p.catch(() => undefined);
      return p;
    });
    try {
      consume(new Uint8Array(0)); // weights of no bytes before the first shard
      for (let i = 0; i < concurrency; i++) start(i);
      for (let i = 0; i < manifest.shards.length; i++) {
        const bytes = await pending[i];
        pending[i] = undefined as never; // the weights keep what they view of the shard
        start(i + concurrency);
        consume(bytes);
        signal.throwIfAborted();
      }
      if (wi !== group.weights.length) {
        throw new WeightsError('shards end before the weights do', href);
      }
      const extraBytes = await Promise.all(extras);
      return { weights, extras: extraBytes };
    } catch (e) {
      inner.abort(e); // the fetches still in flight stop
      throw e;
    }
  };
  return { href, manifest, files, announce, stream };
}

/** A model.json read and checked, its weights not yet: `load()` streams them. */
export interface Opened<T, C> {
  /** Where it is loaded from (the source as given). */
  source: string;
  manifest: LxmertManifest;
  config: C;
  files: readonly ManifestFile[];
  /** See OpenedFolder.announce. */
  announce(): void;
  load(): Promise<T>;
}

/** LXMERT's model.json read and checked, its weights not yet (see OpenedFolder). */
export type OpenedConverted = Opened<ConvertedModel, LxmertConfig>;

/**
 * Read a converted LXMERT folder's model.json and check its weight inventory against the
 * config; `load()` then streams the weights. loadConverted does both.
 */
export async function openConverted(
  source: string | URL,
  options: LoadOptions = {},
): Promise<OpenedConverted> {
  const folder = await openFolder(source, options, (m) =>
    [m.vocab, m.labels].filter((f): f is ManifestFile => f !== undefined),
  );
  const { href, manifest } = folder;
  if ((manifest.architecture as string) === 'GeneralizedRCNN') {
    throw new WeightsError(
      'a detector (GeneralizedRCNN), not LXMERT: use loadConvertedDetector',
      href,
    );
  }
  const config = configFromHf(manifest.config);
  const arch = manifest.architecture;
  const shapes = new Map(manifest.weightsManifest[0].weights.map((w) => [w.name, w]));
  checkWeights(config, arch, shapes, `${href}: model.json`);
  const load = async (): Promise<ConvertedModel> => {
    const { weights, extras } = await folder.stream(decode);
    for (const [tied, twin] of Object.entries(manifest.tiedWeights)) {
      const t = weights.get(twin);
      if (t) weights.set(tied, t);
    }
    const out: ConvertedModel = { config, architecture: arch, weights, manifest, source: href };
    if (manifest.vocab) out.vocab = new TextDecoder().decode(extras.shift());
    if (manifest.labels) {
      const bytes = extras.shift()!;
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
    options.onProgress?.({ status: 'ready', file: MANIFEST_FILE, loaded: 0, total: undefined });
    return out;
  };
  return { source: href, manifest, config, files: folder.files, announce: folder.announce, load };
}

/**
 * Load a converted model. `source`: a folder URL or the model.json URL (fetch), or, with
 * `options.readFile`, any base the reader understands (loader_node.ts: a folder path).
 */
export async function loadConverted(
  source: string | URL,
  options: LoadOptions = {},
): Promise<ConvertedModel> {
  return (await openConverted(source, options)).load();
}

/**
 * model.json's text: read (and stored by URL) when the network answers; the stored copy when
 * the read fails for a network reason and the store has one, with a warning.
 */
async function readManifest(
  reader: FileReader,
  url: string,
  store: ShardStore | undefined,
  warn: (m: string) => void,
  signal: AbortSignal | undefined,
): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await reader(MANIFEST_FILE, () => undefined, undefined, signal);
  } catch (e) {
    signal?.throwIfAborted();
    const offline = !(e instanceof WeightsError) || /gave up after/.test(e.message);
    let cached: string | undefined;
    if (offline && store?.getManifest) cached = await store.getManifest(url).catch(() => undefined);
    if (cached === undefined) throw e;
    warn(`${url}: unreachable (${(e as Error).message}); using the cached model.json`);
    return cached;
  }
  const text = new TextDecoder().decode(bytes);
  if (store?.putManifest) {
    await store
      .putManifest(url, text)
      .catch((e: unknown) => warn(`cache write of model.json failed (${(e as Error)?.message})`));
  }
  return text;
}
