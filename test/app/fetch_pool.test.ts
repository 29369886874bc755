/**
 * FetchPool (the model thread's side of the fetch worker) in Node, with a stand-in worker that
 * answers as fetch_worker.ts does: replies reach their read (progress, bytes, errors of the same
 * class), the worker's digest is what `sha256` gives for the bytes it read (other bytes are
 * hashed here), an abort cancels the read, and a worker that cannot start or crashes is
 * warned about once while its reads go on in this thread against a 127.0.0.1 server.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toWire } from '../../src/app/errors_wire.js';
import { FetchPool, type FetchReply, type FetchRequest } from '../../src/app/fetch_pool.js';
import { WeightsError } from '../../src/errors.js';

const FILE = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);
const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let server: Server;
let base: URL;
let requests = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    if (req.url !== '/m/a.bin') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': FILE.byteLength }).end(FILE);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/m/`);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** A stand-in for the fetch worker: `answer` decides each reply; posted requests are kept. */
class FakeWorker extends EventTarget {
  posted: FetchRequest[] = [];
  terminated = false;
  constructor(private readonly answer: (req: FetchRequest, w: FakeWorker) => void) {
    super();
  }
  postMessage(req: FetchRequest): void {
    this.posted.push(req);
    queueMicrotask(() => this.answer(req, this));
  }
  reply(r: FetchReply): void {
    this.dispatchEvent(Object.assign(new Event('message'), { data: r }));
  }
  crash(message: string): void {
    this.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message }));
  }
  terminate(): void {
    this.terminated = true;
  }
}

const asWorker = (w: FakeWorker) => () => w as unknown as Worker;

describe('FetchPool', () => {
  it('routes progress, bytes and errors to their read; sha256 is the worker digest for its bytes', async () => {
    const bytes = FILE.slice(0, 1000);
    const w = new FakeWorker((req, self) => {
      if (req.type !== 'read') return;
      if (req.path === 'missing.bin') {
        return self.reply({
          id: req.id,
          type: 'error',
          error: toWire(new WeightsError('HTTP 404 Not Found', `${req.base}${req.path}`)),
        });
      }
      self.reply({ id: req.id, type: 'progress', loaded: 500 });
      self.reply({ id: req.id, type: 'progress', loaded: 1000 });
      self.reply({ id: req.id, type: 'bytes', bytes, sha256: 'digest from the worker' });
    });
    const pool = new FetchPool({}, asWorker(w));
    const read = pool.reader(base);
    const seen: number[] = [];
    const got = await read('a.bin', (n) => seen.push(n), 1000);
    expect(got).toBe(bytes);
    expect(seen).toEqual([500, 1000]);
    expect(w.posted[0]).toMatchObject({
      type: 'read',
      base: base.href,
      path: 'a.bin',
      expected: 1000,
    });
    expect(await pool.sha256(got)).toBe('digest from the worker');
    const other = FILE.slice(0, 1000); // same bytes, another array: hashed here
    expect(await pool.sha256(other)).toBe(hex(other));
    const e = await read('missing.bin', () => undefined, 10).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WeightsError);
    expect((e as WeightsError).where).toBe(`${base.href}missing.bin`);
    pool.dispose();
    expect(w.terminated).toBe(true);
  });

  it('spreads reads over its workers (the least busy first); model.json is read here', async () => {
    const workers: FakeWorker[] = [];
    const pool = new FetchPool({ threads: 2 }, () => {
      const w = new FakeWorker((req, self) => {
        if (req.type === 'read') self.reply({ id: req.id, type: 'bytes', bytes: FILE.slice(0, 8) });
      });
      workers.push(w);
      return w as unknown as Worker;
    });
    const read = pool.reader(base);
    await Promise.all([1, 2, 3, 4].map(() => read('a.bin', () => undefined, 8)));
    expect(workers.map((w) => w.posted.length)).toEqual([2, 2]);
    const mark = requests;
    // no size known (model.json): fetched in this thread (here: a 404, refused)
    await expect(read('model.json', () => undefined)).rejects.toThrow(/HTTP 404/);
    expect(requests).toBe(mark + 1);
    expect(workers.map((w) => w.posted.length)).toEqual([2, 2]);
    pool.dispose();
    expect(workers.every((w) => w.terminated)).toBe(true);
  });

  it('an abort rejects the read with its reason and cancels it in the worker', async () => {
    const w = new FakeWorker(() => undefined); // never answers
    const pool = new FetchPool({}, asWorker(w));
    const ctl = new AbortController();
    const p = pool.reader(base)('a.bin', () => undefined, FILE.byteLength, ctl.signal);
    await Promise.resolve();
    ctl.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(w.posted.map((r) => r.type)).toEqual(['read', 'cancel']);
    pool.dispose();
  });

  it('a worker that cannot start, or crashes, is warned about once; reads go on here', async () => {
    const warnings: string[] = [];
    const none = new FetchPool({ onWarning: (m) => warnings.push(m) }, () => {
      throw new Error('no nested workers');
    });
    const mark = requests;
    const a = await none.reader(base)('a.bin', () => undefined, FILE.byteLength);
    expect(hex(a)).toBe(hex(FILE));
    expect(await none.sha256(a)).toBe(hex(FILE));
    expect(requests).toBe(mark + 1);
    expect(warnings).toEqual([
      "the fetch worker could not start (no nested workers); reading the files in the model's thread",
    ]);

    warnings.length = 0;
    const w = new FakeWorker((req, self) => req.type === 'read' && self.crash('boom'));
    const crashing = new FetchPool({ onWarning: (m) => warnings.push(m) }, asWorker(w));
    const read = crashing.reader(base);
    const [b, c] = await Promise.all([
      read('a.bin', () => undefined, FILE.byteLength),
      read('a.bin', () => undefined, FILE.byteLength),
    ]);
    expect(hex(b)).toBe(hex(FILE));
    expect(hex(c)).toBe(hex(FILE));
    expect(w.terminated).toBe(true);
    expect(warnings).toEqual([
      "the fetch worker failed (boom); reading the files in the model's thread",
    ]);
    // later reads skip the worker
    const posted = w.posted.length;
    await read('a.bin', () => undefined, FILE.byteLength);
    expect(w.posted.length).toBe(posted);
  });
});
