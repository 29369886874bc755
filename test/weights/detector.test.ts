/**
 * The detector as a weights architecture: `convert` of the frcnn-narrow folder (safetensors,
 * pytorch_model.bin, a 127.0.0.1 Hub) to float32 / float16, loading from HF and converted folders
 * and over fetch, and checkpoints with missing, extra or mis-shaped keys.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFrcnnConfig } from '../../src/detector/index.js';
import { ConfigError, WeightsError } from '../../src/errors.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { loadConvertedDetector } from '../../src/weights/detector_loader.js';
import { loadDetector } from '../../src/weights/detector_node.js';
import { loadConvertedDir } from '../../src/weights/loader_node.js';
import { toFloat32, type RawTensor } from '../../src/codec/raw_tensor.js';
import { readSafetensors, writeSafetensors } from '../../src/weights/safetensors.js';
import { TorchZipWriter } from '../../src/weights/torch_writer.js';
import { FIXTURES } from '../helpers/golden.js';
import { startFakeHub, type FakeHub } from './hub_server.js';

const NARROW = join(FIXTURES, 'frcnn-narrow');
const tmp = mkdtempSync(join(tmpdir(), 'lxmert-detector-'));
const source = readSafetensors(new Uint8Array(readFileSync(join(NARROW, 'model.safetensors'))));
const config = parseFrcnnConfig(readFileSync(join(NARROW, 'config.yaml'), 'utf8'));
/** The tensors the detector reads: everything but BatchNorm's step counters. */
const used = [...source.keys()].filter((n) => !n.endsWith('.num_batches_tracked'));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A HF-style folder: config.yaml + the given tensors as model.safetensors. */
function folder(name: string, tensors: Map<string, RawTensor>, yaml?: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.yaml'), yaml ?? readFileSync(join(NARROW, 'config.yaml')));
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  return dir;
}

function f32(t: RawTensor): Float32Array {
  return toFloat32(t);
}

/** Bit-equal float32 values (Buffer.equals: vitest's toEqual is slow on large arrays). */
function same(a: RawTensor, b: RawTensor): boolean {
  return Buffer.from(f32(a).buffer).equals(Buffer.from(f32(b).buffer));
}

describe('convert a detector', () => {
  it('float32 from model.safetensors: every tensor as HF stored it, step counters dropped', async () => {
    const out = join(tmp, 'f32');
    const r = await convertCheckpoint(NARROW, out);
    expect(r.manifest.architecture).toBe('GeneralizedRCNN');
    expect(r.manifest.dtype).toBe('float32');
    expect(r.manifest.config).toMatchObject({ resnets: { depth: 101 } });
    const names = r.manifest.weightsManifest[0].weights.map((w) => w.name);
    expect(names.sort()).toEqual([...used].sort());
    const det = await loadDetector(out);
    expect(det.config).toEqual(config);
    expect(used.filter((n) => !same(det.weights.get(n)!, source.get(n)!))).toEqual([]);
    // An LXMERT loader says what the folder is instead of failing on its config.
    await expect(loadConvertedDir(out)).rejects.toThrow(/a detector \(GeneralizedRCNN\)/);
    await expect(loadCheckpoint(NARROW)).rejects.toThrow(/a detector folder \(config\.yaml\)/);
  });

  it('float16: RPN, res5 and predictor weights rounded to float16; backbone, BatchNorm and biases float32', async () => {
    const out = join(tmp, 'f16');
    const r = await convertCheckpoint(NARROW, out, { dtype: 'float16' });
    const f32Bytes = (await convertCheckpoint(NARROW, join(tmp, 'f32b'))).bytes;
    // The narrow model is mostly backbone (about 40% of the real one's weights are in it).
    expect(r.bytes / f32Bytes).toBeLessThan(0.75);
    const det = await loadDetector(out);
    for (const n of used) {
      const want = f32(source.get(n)!);
      const got = f32(det.weights.get(n)!);
      if (
        source.get(n)!.shape.length >= 2 &&
        !n.includes('cell_anchors') &&
        !n.startsWith('backbone.')
      ) {
        const worst = got.reduce(
          (m, v, i) => Math.max(m, Math.abs(v - want[i]) / Math.max(Math.abs(want[i]), 2 ** -14)),
          0,
        );
        expect(worst, n).toBeLessThanOrEqual(2 ** -11);
        expect(worst, n).toBeGreaterThan(0);
      } else expect(same(det.weights.get(n)!, source.get(n)!), n).toBe(true);
    }
  });

  it('int8 is refused for detectors with a clear error, nothing written', async () => {
    const out = join(tmp, 'int8');
    await expect(convertCheckpoint(NARROW, out, { dtype: 'int8' })).rejects.toThrow(
      /int8 is not offered for the detector/,
    );
    expect(() => readFileSync(join(out, 'model.json'))).toThrow();
  });

  it('from pytorch_model.bin (zip) gives the same weights', async () => {
    const dir = join(tmp, 'bin');
    mkdirSync(dir);
    copyFileSync(join(NARROW, 'config.yaml'), join(dir, 'config.yaml'));
    const w = await TorchZipWriter.create(join(dir, 'pytorch_model.bin'));
    for (const [n, t] of source) await w.add(n, t);
    await w.close();
    const det = await loadDetector(dir);
    expect(used.filter((n) => !same(det.weights.get(n)!, source.get(n)!))).toEqual([]);
    const out = join(tmp, 'from-bin');
    const r = await convertCheckpoint(dir, out, { dtype: 'float16' });
    expect(r.manifest.source.files[0].path).toBe('pytorch_model.bin');
  });

  describe('from a Hub id (127.0.0.1)', () => {
    let hub: FakeHub;
    beforeAll(async () => {
      hub = await startFakeHub({
        'unc-nlp/frcnn-vg-finetuned': {
          'config.yaml': join(NARROW, 'config.yaml'),
          'model.safetensors': join(NARROW, 'model.safetensors'),
        },
      });
    });
    afterAll(() => hub.close());

    it('finds config.yaml when there is no config.json', async () => {
      const out = join(tmp, 'hub');
      const r = await convertCheckpoint('unc-nlp/frcnn-vg-finetuned', out, {
        endpoint: hub.endpoint,
        cacheDir: join(tmp, 'cache'),
      });
      expect(r.manifest.architecture).toBe('GeneralizedRCNN');
      expect(r.manifest.source).toMatchObject({ kind: 'hub', repo: 'unc-nlp/frcnn-vg-finetuned' });
      const det = await loadDetector(out);
      expect(det.weights.size).toBe(used.length);
    });
  });
});

describe('load a converted detector over fetch', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const dir = join(tmp, 'served');
    await convertCheckpoint(NARROW, dir, { dtype: 'float16', shardSize: 1 << 20 });
    server = createServer((req, res) => {
      try {
        res.end(readFileSync(join(dir, (req.url ?? '').replace(/^\/m\//, ''))));
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('verifies every shard and gives the same tensors as the Node loader', async () => {
    const events: string[] = [];
    const web = await loadConvertedDetector(base, { onProgress: (e) => events.push(e.status) });
    const node = await loadDetector(join(tmp, 'served'));
    expect(web.manifest.shards.length).toBeGreaterThan(1);
    expect([...web.weights.keys()]).toEqual([...node.weights.keys()]);
    expect([...node.weights].filter(([n, t]) => !same(web.weights.get(n)!, t))).toEqual([]);
    expect(events.at(-1)).toBe('ready');
  });
});

describe('bad detector checkpoints', () => {
  it('missing, extra and mis-shaped keys are listed in one WeightsError', async () => {
    const broken = new Map(source);
    broken.delete('backbone.res4.7.conv2.weight');
    broken.delete('roi_heads.box_predictor.attr_score.bias');
    broken.set(
      'roi_heads.box_predictor.extra.weight',
      source.get('roi_heads.box_predictor.fc_attr.bias')!,
    );
    const w = source.get('backbone.stem.conv1.weight')!;
    broken.set('backbone.stem.conv1.weight', { ...w, shape: [4, 3, 49, 1] });
    const dir = folder('broken', broken);
    let err: unknown;
    try {
      await loadDetector(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeightsError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/2 missing: .*backbone\.res4\.7\.conv2\.weight.*attr_score\.bias/);
    expect(msg).toMatch(
      /1 mis-shaped: backbone\.stem\.conv1\.weight \(F32 \[4, 3, 49, 1\], config wants \[4, 3, 7, 7\]\)/,
    );
    expect(msg).toMatch(/1 unexpected: roi_heads\.box_predictor\.extra\.weight/);
    await expect(convertCheckpoint(dir, join(tmp, 'broken-out'))).rejects.toThrow(WeightsError);
  });

  it('an integer weight is refused', async () => {
    const broken = new Map(source);
    const b = source.get('roi_heads.box_predictor.cls_score.bias')!;
    broken.set('roi_heads.box_predictor.cls_score.bias', {
      dtype: 'I32',
      shape: b.shape,
      bytes: b.bytes,
    });
    await expect(loadDetector(folder('int', broken))).rejects.toThrow(
      /mis-shaped: roi_heads\.box_predictor\.cls_score\.bias \(I32/,
    );
  });

  it('a config.yaml of something else is a ConfigError; a folder with neither config fails clearly', async () => {
    const dir = folder('other', source, 'model:\n  name: bert\nhidden_size: 768\n');
    await expect(loadDetector(dir)).rejects.toThrow(ConfigError);
    await expect(convertCheckpoint(dir, join(tmp, 'other-out'))).rejects.toThrow(ConfigError);
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    await expect(loadDetector(empty)).rejects.toThrow(/no config\.yaml/);
  });

  it('a tampered converted shard fails its sha256', async () => {
    const out = join(tmp, 'tampered');
    const r = await convertCheckpoint(NARROW, out);
    const shard = join(out, r.manifest.shards[0].path);
    const bytes = readFileSync(shard);
    bytes[100] ^= 1;
    writeFileSync(shard, bytes);
    await expect(loadDetector(out)).rejects.toThrow(/sha256 .* differs/);
  });
});
