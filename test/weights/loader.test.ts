/**
 * loadConverted over HTTP (a static server on 127.0.0.1) and from the file system: the same
 * tensors, progress events with totals from the manifest, only manifest-named files fetched,
 * and a corrupt shard refused by name.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { loadConverted } from '../../src/weights/loader.js';
import { loadConvertedDir } from '../../src/weights/loader_node.js';
import type { ProgressEvent } from '../../src/weights/progress.js';
import { FIXTURES, tempDir } from './helpers.js';

const tmp = tempDir('loader');
let server: Server;
let base: string;
const requested: string[] = [];
const corrupt = new Map<string, Uint8Array>();

beforeAll(async () => {
  await convertCheckpoint(join(FIXTURES, 'lxmert-vqa-tiny'), join(tmp, 'vqa'), {
    dtype: 'int8',
    shardSize: 1_000_000,
  });
  writeFileSync(join(tmp, 'vqa', 'unrelated.bin'), 'not for the loader');
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requested.push(path);
    let body: Uint8Array;
    try {
      body = corrupt.get(path) ?? readFileSync(join(tmp, path));
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('loadConverted', () => {
  it('over HTTP equals the file system, with progress, fetching only named files', async () => {
    const events: ProgressEvent[] = [];
    requested.length = 0;
    const http = await loadConverted(`${base}/vqa/`, { onProgress: (e) => events.push(e) });
    const fs = await loadConvertedDir(join(tmp, 'vqa'));
    expect([...http.weights.keys()]).toEqual([...fs.weights.keys()]);
    for (const [k, t] of fs.weights)
      expect(Buffer.from(http.weights.get(k)!.bytes).equals(Buffer.from(t.bytes)), k).toBe(true);
    expect(http.labels?.length).toBe(3129);
    expect(http.vocab).toBe(fs.vocab);
    expect(http.architecture).toBe('LxmertForQuestionAnswering');
    const m = http.manifest;
    const named = ['model.json', ...m.shards.map((s) => s.path), 'vocab.txt', 'labels.json'].map(
      (f) => `/vqa/${f}`,
    );
    expect(requested.sort()).toEqual(named.sort());
    expect(m.shards.length).toBeGreaterThan(1);
    const shard = m.shards[0];
    const mine = events.filter((e) => e.file === shard.path);
    expect(mine[0]).toEqual({
      status: 'initiate',
      file: shard.path,
      loaded: 0,
      total: shard.bytes,
    });
    expect(mine.at(-1)).toEqual({
      status: 'done',
      file: shard.path,
      loaded: shard.bytes,
      total: shard.bytes,
    });
    expect(mine.some((e) => e.status === 'progress' && e.loaded === shard.bytes)).toBe(true);
    expect(events.at(-1)!.status).toBe('ready');
    // model.json URL form
    const again = await loadConverted(`${base}/vqa/model.json`);
    expect(again.weights.size).toBe(http.weights.size);
  });

  it('refuses a shard whose sha256 differs, naming it', async () => {
    const m = JSON.parse(readFileSync(join(tmp, 'vqa', 'model.json'), 'utf8'));
    const name = m.shards[1].path as string;
    const bytes = new Uint8Array(readFileSync(join(tmp, 'vqa', name)));
    bytes[100] ^= 1;
    corrupt.set(`/vqa/${name}`, bytes);
    await expect(loadConverted(`${base}/vqa`)).rejects.toThrow(
      new RegExp(`vqa: ${name}: sha256 [0-9a-f]{64} differs`),
    );
    corrupt.set(`/vqa/${name}`, bytes.subarray(1));
    await expect(loadConverted(`${base}/vqa`)).rejects.toThrow(/bytes, model\.json says/);
    corrupt.clear();
  });

  it('reports HTTP errors and a bad manifest', async () => {
    await expect(loadConverted(`${base}/nothing/`)).rejects.toThrow(
      /nothing\/model\.json: HTTP 404/,
    );
    corrupt.set('/vqa/model.json', new TextEncoder().encode('{"format": "other"}'));
    await expect(loadConverted(`${base}/vqa/`)).rejects.toThrow(
      /invalid model\.json: format is "other"/,
    );
    corrupt.clear();
    await expect(loadConverted('not a url')).rejects.toThrow(/not a URL/);
  });
});
