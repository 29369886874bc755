/**
 * The detector's files through the runtime's own persistent cache (src/app/cache.ts, the store
 * LxmertVqa keeps the VQA model in): model.json under its URL, shards under their sha256, so a
 * photo can be asked about offline too and "forget downloaded models" / the storage line cover
 * the detector. LxmertVqa does not load detectors yet; this reader gives loadConvertedDetector
 * the same caching. Network first for model.json (a new conversion is picked up), the cache when
 * offline; shards from the cache when present (content-addressed: they cannot be stale), else
 * fetched and stored after their sha256 is checked.
 */
import { openCacheStore } from '../src/app/cache.js';
import { WeightsError } from '../src/errors.js';
import type { FileReader } from '../src/weights/loader.js';

const MANIFEST = 'model.json';

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function fetchBytes(url: URL, onBytes: (n: number) => void): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new WeightsError(`HTTP ${res.status}`, url.href);
  const bytes = new Uint8Array(await res.arrayBuffer());
  onBytes(bytes.byteLength);
  return bytes;
}

/** A FileReader over the detector folder `base` that reads through the cache. */
export async function cachedDetectorReader(base: URL): Promise<FileReader> {
  const store = await openCacheStore().catch(() => undefined);
  const manifestUrl = new URL(MANIFEST, base).href;
  /** path → sha256, from model.json once read. */
  const hashes = new Map<string, string>();
  const remember = (text: string) => {
    try {
      const m = JSON.parse(text) as { shards?: { path: string; sha256: string }[] };
      for (const s of m.shards ?? []) hashes.set(s.path, s.sha256);
    } catch {
      // the loader reports a bad model.json itself
    }
  };
  return async (path, onBytes) => {
    const url = new URL(path, base);
    if (path === MANIFEST) {
      try {
        const bytes = await fetchBytes(url, onBytes);
        const text = new TextDecoder().decode(bytes);
        remember(text);
        await store?.putManifest?.(manifestUrl, text).catch(() => undefined);
        return bytes;
      } catch (e) {
        const text = await store?.getManifest?.(manifestUrl).catch(() => undefined);
        if (text === undefined || (e instanceof WeightsError && /HTTP 404/.test(e.message))) {
          throw e;
        }
        remember(text);
        return new TextEncoder().encode(text);
      }
    }
    const sha = hashes.get(path);
    const hit = sha && (await store?.get(sha).catch(() => undefined));
    if (hit) {
      onBytes(hit.byteLength);
      return hit;
    }
    const bytes = await fetchBytes(url, onBytes);
    if (sha && store && (await sha256Hex(bytes)) === sha) {
      await store.put(sha, bytes).catch(() => undefined);
    }
    return bytes;
  };
}
