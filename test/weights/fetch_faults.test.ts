/**
 * The streaming loader's faults in Node against a 127.0.0.1 server: a 5xx and a dropped body are
 * retried, too many bytes stop the read, an HTML page and a wrong Content-Length are refused, a
 * ShardStore is read first (a corrupt copy evicted), filled as shards verify, and one that
 * throws only warns; concurrency stays bounded; an abort stops everything.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeightsError } from '../../src/errors.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { loadConverted, type ShardStore } from '../../src/weights/loader.js';
import { FIXTURES, tempDir } from './helpers.js';

const tmp = tempDir('fetch-faults');
let server: Server;
let base = '';
const requests: string[] = [];
const faults = new Map<
  string,
  'fail-once' | 'fail' | 'drop-once' | 'oversize' | 'html' | 'length'
>();
let inFlight = 0;
let maxInFlight = 0;
let shards: { path: string; sha256: string; bytes: number }[] = [];

beforeAll(async () => {
  await convertCheckpoint(join(FIXTURES, 'lxmert-vqa-tiny'), join(tmp, 'm'), {
    dtype: 'int8',
    shardSize: 200_000,
  });
  shards = JSON.parse(readFileSync(join(tmp, 'm', 'model.json'), 'utf8')).shards;
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    let body: Buffer;
    try {
      body = readFileSync(join(tmp, path));
    } catch {
      res.writeHead(404).end();
      return;
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    const f = faults.get(path);
    if (f === 'fail-once' || f === 'drop-once') faults.delete(path);
    // a little latency so that fetches overlap
    setTimeout(() => {
      if (f === 'fail' || f === 'fail-once') res.writeHead(502).end();
      else if (f === 'drop-once') {
        res.writeHead(200, { 'content-length': body.byteLength });
        res.write(body.subarray(0, 1000), () => res.destroy());
      } else if (f === 'oversize') {
        res.writeHead(200);
        res.write(body);
        res.end(Buffer.alloc(10));
      } else if (f === 'html') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>spa</p>');
      } else if (f === 'length') {
        res.writeHead(200, { 'content-length': body.byteLength - 1 }).end(body.subarray(1));
      } else res.writeHead(200, { 'content-length': body.byteLength }).end(body);
    }, 5);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const fast = { retry: { retryDelayMs: 5 } };

function memoryStore(): ShardStore & { map: Map<string, Uint8Array> } {
  const map = new Map<string, Uint8Array>();
  return {
    map,
    get: async (k) => map.get(k),
    put: async (k, v) => void map.set(k, v.slice()),
    delete: async (k) => void map.delete(k),
  };
}

describe('streaming loader faults', () => {
  it('retries a 5xx and a dropped body; at most `concurrency` shards in flight', async () => {
    const [a, b] = shards.map((s) => `/m/${s.path}`);
    faults.set(a, 'fail-once');
    faults.set(b, 'drop-once');
    requests.length = 0;
    maxInFlight = 0;
    const m = await loadConverted(base, { ...fast, concurrency: 2 });
    expect(m.weights.size).toBeGreaterThan(0);
    expect(requests.filter((p) => p === a)).toHaveLength(2);
    expect(requests.filter((p) => p === b)).toHaveLength(2);
    expect(shards.length).toBeGreaterThan(4);
    // 2 shards plus vocab and labels
    expect(maxInFlight).toBeLessThanOrEqual(4);
  });

  it('refuses too many bytes, an HTML page, a wrong length; gives up on a lasting 5xx', async () => {
    const s = `/m/${shards[1].path}`;
    for (const [fault, msg] of [
      ['oversize', /more than the \d+ bytes model\.json announces arrived; stopped reading/],
      ['html', /HTML page instead of the file/],
      ['length', /the server sends \d+ bytes, model\.json says \d+/],
      ['fail', /HTTP 502 Bad Gateway; gave up after 3 tries/],
    ] as const) {
      faults.clear();
      faults.set(s, fault);
      const e = await loadConverted(base, fast).catch((x: unknown) => x);
      expect(e, fault).toBeInstanceOf(WeightsError);
      expect((e as WeightsError).where, fault).toBe(`${base}${shards[1].path}`);
      expect((e as Error).message, fault).toMatch(msg);
    }
    faults.clear();
  });

  it('a store: filled, then read first; a corrupt copy is evicted; a failing store warns', async () => {
    const store = memoryStore();
    await loadConverted(base, { store });
    expect(store.map.size).toBe(shards.length + 2);
    requests.length = 0;
    const bad = store.map.get(shards[0].sha256)!;
    bad[3] ^= 1;
    const warnings: string[] = [];
    await loadConverted(base, { store, onWarning: (w) => warnings.push(w) });
    expect(requests).toEqual(['/m/model.json', `/m/${shards[0].path}`]);
    expect(warnings.join()).toMatch(/cached copy is corrupt/);

    const broken: ShardStore = {
      get: async () => undefined,
      put: async () => {
        throw new Error('quota exceeded');
      },
      delete: async () => undefined,
    };
    const w2: string[] = [];
    const m = await loadConverted(base, { store: broken, onWarning: (w) => w2.push(w) });
    expect(m.labels?.length).toBe(3129);
    expect(w2).toEqual(['cache write failed (quota exceeded); going on without the cache']);
  });

  it('reads a body that is not a byte stream through the default reader, with the same checks', async () => {
    // Node's fetch bodies are byte streams (read into the file's buffer); this one is not.
    const plain: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!res.body) return res;
      const body = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>());
      expect(() => body.getReader({ mode: 'byob' })).toThrow(TypeError);
      return new Response(body, { status: res.status, headers: res.headers });
    };
    faults.clear();
    const viaBytes = await loadConverted(base, fast);
    const viaPlain = await loadConverted(base, { ...fast, fetch: plain });
    expect([...viaPlain.weights.keys()]).toEqual([...viaBytes.weights.keys()]);
    for (const [name, t] of viaBytes.weights) {
      expect(
        Buffer.from(viaPlain.weights.get(name)!.bytes).equals(Buffer.from(t.bytes)),
        name,
      ).toBe(true);
    }
    for (const [fault, msg] of [
      ['oversize', /more than the \d+ bytes model\.json announces arrived; stopped reading/],
      ['html', /HTML page instead of the file/],
    ] as const) {
      faults.clear();
      faults.set(`/m/${shards[1].path}`, fault);
      const e = await loadConverted(base, { ...fast, fetch: plain }).catch((x: unknown) => x);
      expect((e as Error).message, fault).toMatch(msg);
    }
    faults.clear();
  });

  it('an abort stops the load with its reason', async () => {
    const ctl = new AbortController();
    const p = loadConverted(base, {
      signal: ctl.signal,
      onProgress: (e) => e.status === 'done' && ctl.abort(new Error('stop here')),
    });
    await expect(p).rejects.toThrow('stop here');
  });
});
