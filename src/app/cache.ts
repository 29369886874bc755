/**
 * The persistent cache: Cache Storage, content-addressed. A shard is stored once under its
 * sha256 (models that share shards share the bytes); a model.json under its URL, so a reload
 * works offline and a model can be listed and deleted.
 *
 * Why Cache Storage rather than the origin private file system: it is the same store in pages,
 * dedicated workers and service workers (the PWA's service worker can serve and pre-cache the
 * very same entries), it is available in every engine we target from both the window and
 * workers, entries are Responses (written and read whole, without our own file format or
 * locking), and it is counted in navigator.storage.estimate() like OPFS. OPFS's fast path
 * (sync access handles) exists only in workers and would need a second code path in the page.
 */
import type { ShardStore } from '../weights/loader.js';

/** Name of our Cache Storage cache. */
export const CACHE_NAME = 'lxmert-web-v1';
const SHARD_PREFIX = 'https://lxmert-web.invalid/sha256/';
const MANIFEST_PREFIX = 'https://lxmert-web.invalid/manifest/';

function cacheStorage(): CacheStorage | undefined {
  return (globalThis as { caches?: CacheStorage }).caches;
}

const shardKey = (sha256: string) => `${SHARD_PREFIX}${sha256}`;
const manifestKey = (url: string) => `${MANIFEST_PREFIX}${encodeURIComponent(url)}`;

/** A ShardStore over Cache Storage (undefined where `caches` is missing, e.g. http: pages). */
export async function openCacheStore(): Promise<ShardStore | undefined> {
  const storage = cacheStorage();
  if (!storage) return undefined;
  const cache = await storage.open(CACHE_NAME);
  return {
    async get(sha256) {
      const res = await cache.match(shardKey(sha256));
      return res ? new Uint8Array(await res.arrayBuffer()) : undefined;
    },
    async put(sha256, bytes) {
      await cache.put(
        shardKey(sha256),
        new Response(bytes as Uint8Array<ArrayBuffer>, {
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(bytes.byteLength),
          },
        }),
      );
    },
    async delete(sha256) {
      await cache.delete(shardKey(sha256));
    },
    async getManifest(url) {
      const res = await cache.match(manifestKey(url));
      return res ? res.text() : undefined;
    },
    async putManifest(url, text) {
      await cache.put(
        manifestKey(url),
        new Response(text, { headers: { 'content-type': 'application/json' } }),
      );
    },
  };
}

interface CachedManifest {
  url: string;
  files: { path: string; sha256: string; bytes: number }[];
}

async function cachedManifests(cache: Cache): Promise<CachedManifest[]> {
  const out: CachedManifest[] = [];
  for (const req of await cache.keys()) {
    if (!req.url.startsWith(MANIFEST_PREFIX)) continue;
    const url = decodeURIComponent(req.url.slice(MANIFEST_PREFIX.length));
    try {
      const m = JSON.parse(await (await cache.match(req))!.text()) as {
        shards?: CachedManifest['files'];
        vocab?: CachedManifest['files'][number];
        labels?: CachedManifest['files'][number];
      };
      const files = [...(m.shards ?? [])];
      if (m.vocab) files.push(m.vocab);
      if (m.labels) files.push(m.labels);
      out.push({ url, files });
    } catch {
      out.push({ url, files: [] });
    }
  }
  return out;
}

export interface CachedModel {
  /** The model.json URL. */
  url: string;
  /** Files model.json names, and how many of them are cached. */
  files: number;
  cachedFiles: number;
  /** Bytes of the cached files. */
  bytes: number;
  /** Every file is cached: the model loads offline. */
  complete: boolean;
}

/** The models whose model.json is cached. */
export async function listCached(): Promise<CachedModel[]> {
  const storage = cacheStorage();
  if (!storage || !(await storage.has(CACHE_NAME))) return [];
  const cache = await storage.open(CACHE_NAME);
  const have = new Set((await cache.keys()).map((r) => r.url));
  return (await cachedManifests(cache)).map((m) => {
    const cached = m.files.filter((f) => have.has(shardKey(f.sha256)));
    return {
      url: m.url,
      files: m.files.length,
      cachedFiles: cached.length,
      bytes: cached.reduce((a, f) => a + f.bytes, 0),
      complete: cached.length === m.files.length,
    };
  });
}

function manifestUrlOf(model: string | URL): string {
  const href = model instanceof URL ? model.href : new URL(model, globalThis.location?.href).href;
  return href.endsWith('model.json') ? href : `${href.replace(/\/?$/, '/')}model.json`;
}

/**
 * Delete a model's cached model.json and the shards no other cached model uses. Returns the
 * bytes freed.
 */
export async function deleteCached(model: string | URL): Promise<number> {
  const storage = cacheStorage();
  if (!storage || !(await storage.has(CACHE_NAME))) return 0;
  const cache = await storage.open(CACHE_NAME);
  const url = manifestUrlOf(model);
  const all = await cachedManifests(cache);
  const mine = all.find((m) => m.url === url);
  if (!mine) return 0;
  const kept = new Set(all.filter((m) => m !== mine).flatMap((m) => m.files.map((f) => f.sha256)));
  let freed = 0;
  for (const f of mine.files) {
    if (kept.has(f.sha256)) continue;
    if (await cache.delete(shardKey(f.sha256))) freed += f.bytes;
  }
  await cache.delete(manifestKey(url));
  return freed;
}

export interface CacheUsage {
  /** Bytes of cached shards and manifests (ours). */
  bytes: number;
  /** navigator.storage.estimate(): the origin's usage and quota, where available. */
  usage?: number;
  quota?: number;
  /** navigator.storage.persisted(): the browser will not evict the cache under pressure. */
  persisted?: boolean;
}

/** How much the cache holds, and the origin's quota. */
export async function cacheUsage(): Promise<CacheUsage> {
  const out: CacheUsage = { bytes: 0 };
  const storage = cacheStorage();
  if (storage && (await storage.has(CACHE_NAME))) {
    const cache = await storage.open(CACHE_NAME);
    for (const req of await cache.keys()) {
      const res = await cache.match(req);
      const n = Number(res?.headers.get('content-length'));
      out.bytes += Number.isFinite(n) && n > 0 ? n : ((await res?.arrayBuffer())?.byteLength ?? 0);
    }
  }
  const sm = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
  if (sm?.estimate) {
    const e = await sm.estimate();
    out.usage = e.usage;
    out.quota = e.quota;
  }
  if (sm?.persisted) out.persisted = await sm.persisted();
  return out;
}

/**
 * Ask the browser to keep our storage under pressure (navigator.storage.persist; pages only,
 * not workers). Resolves with the answer, false where it cannot be asked.
 */
export async function requestPersistence(): Promise<boolean> {
  const sm = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
  if (!sm?.persist) return false;
  try {
    return (await sm.persisted?.()) || (await sm.persist());
  } catch {
    return false;
  }
}
