/**
 * Class 5 of issue 12: memory bombs. Small inputs that claim (or expand into) huge memory are
 * refused before anything is allocated: a zip entry inflating 1000-fold, a stride-0 view, a Hub
 * endpoint streaming an endless config.json, a max_length of 1e9, 19,000 regions.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError, WeightsError } from '../../src/errors.js';
import { parseObj36Line } from '../../src/features/obj36.js';
import { resetLimits, setLimits } from '../../src/limits.js';
import { LxmertTokenizer } from '../../src/tokenizer/tokenizer.js';
import { downloadModel } from '../../src/weights/hub.js';
import { readConfigJson } from '../../src/weights/config_file.js';
import { openTorchBin } from '../../src/weights/torch_bin.js';
import { expectOneLineError, lxmert } from '../helpers/cli.js';
import { stateDictPickle } from '../../src/weights/torch_writer.js';
import { buildZip, rawSafetensors, tempDir, thrown, TINY } from './helpers.js';

const tmp = tempDir('sec-bombs');
afterEach(() => resetLimits());
let n = 0;
const file = (name: string, bytes: Uint8Array) => {
  const p = join(tmp, `${n++}-${name}`);
  writeFileSync(p, bytes);
  return p;
};

describe('zip entries that inflate far beyond their size', () => {
  const pkl = stateDictPickle([
    { name: 'w', key: '0', dtype: 'F32', numel: 1, shape: [1], stride: [1] },
  ]);
  const data = new Uint8Array(4);

  it('a deflated data.pkl claiming 2 GB is refused before inflating', async () => {
    const bin = file(
      'bomb.bin',
      buildZip([
        { name: 'archive/data.pkl', data: pkl, deflate: true, claimSize: 2_000_000_000 },
        { name: 'archive/data/0', data },
      ]),
    );
    const rss = process.memoryUsage().rss;
    const err = await thrown(() => openTorchBin(bin));
    expect(err).toBeInstanceOf(WeightsError);
    expect(err.message).toMatch(
      /claims 2000000000 bytes, more than the \d+ allowed \(limit maxPickleBytes\)/,
    );
    expect(process.memoryUsage().rss - rss).toBeLessThan(200e6);
  });

  it('an entry under the size cap but 1000 times its compressed size is refused (ratio)', async () => {
    const zeros = new Uint8Array(2_000_000); // 2 MB of zeros deflates to ~2 KB
    const bin = file(
      'ratio.bin',
      buildZip([
        { name: 'archive/data.pkl', data: zeros, deflate: true },
        { name: 'archive/data/0', data },
      ]),
    );
    const err = await thrown(() => openTorchBin(bin));
    expect(err.message).toMatch(
      /would inflate \d+ bytes to 2000000, more than 200 times \(limit maxInflateRatio\)/,
    );
  });

  it('the limits are settings: a smaller maxPickleBytes refuses an honest pickle', async () => {
    const bin = file(
      'honest.bin',
      buildZip([
        { name: 'archive/data.pkl', data: pkl },
        { name: 'archive/data/0', data },
      ]),
    );
    await expect(openTorchBin(bin).then((f) => f.close())).resolves.toBeUndefined();
    setLimits({ maxPickleBytes: 16 });
    await expect(openTorchBin(bin)).rejects.toThrow(/limit maxPickleBytes/);
  });
});

describe('strided views that expand a few floats into a huge tensor', () => {
  it('a stride-0 view of 4 stored floats as [8192, 8192] is refused before allocating', async () => {
    const pkl = stateDictPickle([
      { name: 'w', key: '0', dtype: 'F32', numel: 4, shape: [8192, 8192], stride: [0, 0] },
    ]);
    const bin = file(
      'stride0.bin',
      buildZip([
        { name: 'archive/data.pkl', data: pkl },
        { name: 'archive/data/0', data: new Uint8Array(16) },
      ]),
    );
    const rss = process.memoryUsage().rss;
    const err = await thrown(() => openTorchBin(bin));
    expect(err).toBeInstanceOf(WeightsError);
    expect(err.message).toMatch(
      /tensor 'w': strided view of \[8192, 8192\] \(strides \[0, 0\]\) would expand 1 stored elements into 67108864 .*limit maxViewExpansion/,
    );
    expect(process.memoryUsage().rss - rss).toBeLessThan(100e6);
  });

  it('a small broadcast view (a real position_ids buffer) still opens', async () => {
    const pkl = stateDictPickle([
      { name: 'w', key: '0', dtype: 'F32', numel: 4, shape: [4, 4], stride: [0, 1] },
    ]);
    const bin = file(
      'small-view.bin',
      buildZip([
        { name: 'archive/data.pkl', data: pkl },
        { name: 'archive/data/0', data: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer) },
      ]),
    );
    const f = await openTorchBin(bin);
    const bytes = await f.entries.get('w')!.read();
    expect([...new Float32Array(bytes.slice().buffer)]).toEqual([
      1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4,
    ]);
    await f.close();
  });
});

describe('Hub responses larger than announced or allowed', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    server = undefined;
  });
  const serve = async (handler: Parameters<typeof createServer>[1]) => {
    server = createServer(handler);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  };

  it('an endless config.json stops at maxConfigBytes with a typed error, memory bounded', async () => {
    let sent = 0;
    const endpoint = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1 << 16, 0x20);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.write('{"pad": "');
      pump();
    });
    const rss = process.memoryUsage().rss;
    const err = await thrown(() =>
      downloadModel('org/endless', { endpoint, cacheDir: join(tmp, 'cache'), retries: 1 }),
    );
    expect(err).toBeInstanceOf(WeightsError);
    expect(err.message).toMatch(
      /more than the 4194304 bytes allowed \(limit maxConfigBytes\); stopped/,
    );
    expect(process.memoryUsage().rss - rss).toBeLessThan(200e6);
    expect(sent).toBeLessThan(64 << 20); // the client hung up, the server stopped
  });

  it('a config.json announcing 1 GB is refused before its body is read', async () => {
    const endpoint = await serve((req, res) => {
      res.writeHead(200, { 'content-length': String(1 << 30) });
      res.write('{');
    });
    const err = await thrown(() =>
      downloadModel('org/big', { endpoint, cacheDir: join(tmp, 'cache2'), retries: 1 }),
    );
    expect(err.message).toMatch(/announced 1073741824 bytes, more than the 4194304 allowed/);
  });

  it('a weights file larger than its X-Linked-Size stops as soon as it passes it', async () => {
    const cfg = JSON.stringify({ architectures: ['LxmertModel'] });
    const endpoint = await serve((req, res) => {
      if (req.url!.endsWith('/config.json')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(cfg);
      } else if (req.url!.endsWith('/model.safetensors')) {
        res.writeHead(200, { 'x-linked-size': '100' });
        res.end(Buffer.alloc(1 << 20));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    const err = await thrown(() =>
      downloadModel('org/liar', { endpoint, cacheDir: join(tmp, 'cache3'), retries: 1 }),
    );
    expect(err).toBeInstanceOf(WeightsError);
    expect(err.message).toMatch(/sent more than the 100 bytes it announced; stopped and removed/);
  });
});

describe('sizes asked for by text inputs', () => {
  const vocab = '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhi\n';

  it('max_length 1e9 is refused before padding (API)', () => {
    const tok = LxmertTokenizer.fromVocabText(vocab);
    expect(() => tok.encode('hi', null, { maxLength: 1e9, padding: 'max_length' })).toThrow(
      /maxLength: expected at most 4096 tokens \(limit maxSequenceLength/,
    );
    expect(() => tok.encode('hi', null, { maxLength: 8, padding: 'max_length' })).not.toThrow();
  });

  it("CLI: a line's max_length above the model's max_position_embeddings names the line", () => {
    const dir = join(tmp, 'tok-model');
    mkdirSync(dir);
    copyFileSync(join(TINY, 'config.json'), join(dir, 'config.json')); // max_position_embeddings 64
    writeFileSync(join(dir, 'vocab.txt'), vocab);
    const input = '{"text": "hi"}\n{"text": "hi", "max_length": 1000000000}\n';
    const r = lxmert(['tokenize', '--model', dir], input, 30_000);
    expect(expectOneLineError(r)).toMatch(
      /stdin line 2: max_length: expected at most 64 \(the model's max_position_embeddings\), got 1000000000/,
    );
  });

  it('an obj36 line claiming 19,000 regions is refused before decoding', () => {
    const line = ['img', '10', '10', 'AA==', 'AA==', 'AA==', 'AA==', '19000', 'AA==', 'AA=='].join(
      '\t',
    );
    expect(() => parseObj36Line(line)).toThrow(InputError);
    expect(() => parseObj36Line(line)).toThrow(
      /num_boxes: expected at most 1024 regions \(limit maxRegions/,
    );
  });

  it('CLI: an inputs file with 19,000 regions is refused before the model is loaded', () => {
    const regions = 19_000;
    const ids = new Uint8Array(new Int32Array([101, 102]).buffer);
    const feats = new Uint8Array(regions * 48 * 4); // generated here, never committed
    const pos = new Uint8Array(regions * 4 * 4);
    const header = JSON.stringify({
      input_ids: { dtype: 'I32', shape: [1, 2], data_offsets: [0, 8] },
      visual_feats: { dtype: 'F32', shape: [1, regions, 48], data_offsets: [8, 8 + feats.length] },
      visual_pos: {
        dtype: 'F32',
        shape: [1, regions, 4],
        data_offsets: [8 + feats.length, 8 + feats.length + pos.length],
      },
    });
    const data = new Uint8Array(8 + feats.length + pos.length);
    data.set(ids, 0);
    const inputs = file('regions.safetensors', rawSafetensors(header, data));
    const t0 = performance.now();
    const r = lxmert(
      [
        'infer',
        '--model',
        join(tmp, 'no-model-needed'),
        '--inputs',
        inputs,
        '--output',
        join(tmp, 'o'),
      ],
      undefined,
      30_000,
    );
    expect(expectOneLineError(r)).toMatch(
      /InputError: visual_feats: expected at most 1024 regions per image \(limit maxRegions.*got 19000/,
    );
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it('a config.json over maxConfigBytes is refused unread', async () => {
    const dir = join(tmp, 'big-config');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), `{"pad": "${' '.repeat(5000)}"}`);
    setLimits({ maxConfigBytes: 4096 });
    await expect(readConfigJson(dir)).rejects.toThrow(
      /5\d{3} bytes, more than the 4096 allowed \(limit maxConfigBytes/,
    );
  });
});
