/**
 * A detector's files through the shard store the model uses (src/app/cache.ts): model.json
 * under its URL (network first, the stored copy when offline), shards under their sha256
 * (content-addressed, so never stale), fetched and stored when missing. loadConvertedDetector
 * verifies every file it is given, so a bad stored shard fails there.
 */
import { WeightsError } from '../errors.js';
import type { FileReader, ShardStore } from '../weights/loader.js';
import { MANIFEST_FILE } from '../weights/manifest.js';

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

/** A FileReader over the detector folder `base` that reads through `store`. */
export function cachedDetectorReader(
  base: URL,
  store: ShardStore,
  warn: (message: string) => void,
): FileReader {
  const manifestUrl = new URL(MANIFEST_FILE, base).href;
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
  const storeFailed = (e: unknown) => {
    warn(`could not cache the detector (${(e as Error)?.message ?? e})`);
  };
  return async (path, onBytes) => {
    const url = new URL(path, base);
    if (path === MANIFEST_FILE) {
      try {
        const bytes = await fetchBytes(url, onBytes);
        const text = new TextDecoder().decode(bytes);
        remember(text);
        await store.putManifest?.(manifestUrl, text).catch(storeFailed);
        return bytes;
      } catch (e) {
        const text = await store.getManifest?.(manifestUrl).catch(() => undefined);
        if (text === undefined || (e instanceof WeightsError && /HTTP 404/.test(e.message))) {
          throw e;
        }
        warn(`using the stored ${manifestUrl} (${(e as Error).message})`);
        remember(text);
        return new TextEncoder().encode(text);
      }
    }
    const sha = hashes.get(path);
    const hit = sha ? await store.get(sha).catch(() => undefined) : undefined;
    if (hit) {
      onBytes(hit.byteLength);
      return hit;
    }
    const bytes = await fetchBytes(url, onBytes);
    if (sha && (await sha256Hex(bytes)) === sha) await store.put(sha, bytes).catch(storeFailed);
    return bytes;
  };
}
