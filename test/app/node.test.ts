/**
 * LxmertVqa in Node (no worker): a Hugging Face folder and a `lxmert convert` output of
 * lxmert-vqa-tiny give cases.json's top-5; the progress sequence and its byte sums; labels and
 * vocabulary found as documented; the pooled token's attention; bad folders and inputs refused;
 * nothing leaks after dispose. With the frcnn-narrow detector: detect() is GeneralizedRCNN's
 * output, answer(image) is the model fed those regions, one detection per image.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LxmertVqa, type LoadProgressEvent } from '../../src/app/index.js';
import { InputError, WeightsError } from '../../src/errors.js';
import { GeneralizedRCNN } from '../../src/detector/index.js';
import { readImageFile } from '../../src/features/image_node.js';
import { loadDetector } from '../../src/node.js';
import { folderSource } from '../../src/pipeline/node.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import type { ShardStore } from '../../src/weights/loader.js';
import { useBackend } from '../helpers/backends.js';
import { NARROW } from '../helpers/frcnn_match.js';
import { FIXTURES } from '../helpers/golden.js';
import { NARROW_FEATURE_DIM, writeVqaNarrow } from '../helpers/vqa_narrow.js';
import { loadVqaFixture } from '../pipeline/helpers.js';

const fx = loadVqaFixture();
let tmp = '';
let converted = '';

beforeAll(async () => {
  await useBackend('cpu');
  tmp = mkdtempSync(join(tmpdir(), 'lxmert-app-node-'));
  converted = join(tmp, 'converted');
  await convertCheckpoint(fx.dir, converted, { shardSize: 1_000_000 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function top5(vqa: LxmertVqa): Promise<string[][]> {
  const out: string[][] = [];
  for (const c of fx.singles) {
    const r = await vqa.answer(fx.images.get(c.img_id)!, c.question);
    out.push(r.answers.map((a) => a.answer));
  }
  return out;
}

const want = () => fx.singles.map((c) => c.top5_answers);

describe('LxmertVqa in Node', () => {
  it('a converted folder: answers, progress sequence with byte sums, own labels and vocab', async () => {
    const before = tf.memory().numTensors;
    const events: LoadProgressEvent[] = [];
    const vqa = await LxmertVqa.load({
      model: converted,
      backend: 'cpu',
      onProgress: (e) => events.push(e),
    });
    expect(vqa.info.worker).toBe(false);
    expect(vqa.info.backend.backend).toBe('cpu');
    expect(vqa.info).toMatchObject({
      labelsFrom: 'the model (labels.json)',
      vocabFrom: 'the model (vocab.txt)',
      architecture: 'LxmertForQuestionAnswering',
    });
    expect(await top5(vqa)).toEqual(want());
    const m = JSON.parse(readFileSync(join(converted, 'model.json'), 'utf8'));
    const files = [...m.shards, m.vocab, m.labels] as { path: string; bytes: number }[];
    const total = files.reduce((a, f) => a + f.bytes, 0);
    // every file announced first, then per file download → progress… → done, then ready once
    expect(events.slice(0, files.length).map((e) => [e.status, e.file])).toEqual(
      files.map((f) => ['initiate', f.path]),
    );
    expect(events.slice(files.length).every((e) => e.totalBytes === total)).toBe(true);
    for (const f of files) {
      const mine = events.filter((e) => e.file === f.path).map((e) => e.status);
      expect(mine[0]).toBe('initiate');
      expect(mine[1]).toBe('download');
      expect(mine.at(-1)).toBe('done');
    }
    const fractions = events.map((e) => e.fraction);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1])).toBe(true);
    expect(events.at(-1)).toMatchObject({ status: 'ready', fraction: 1, loadedBytes: total });
    expect(events.filter((e) => e.status === 'ready')).toHaveLength(1);
    vqa.dispose();
    expect(tf.memory().numTensors, 'tensors left after dispose').toBe(before);
  });

  it('a Hugging Face folder (folderSource): labels from data/ by num_qa_labels', async () => {
    const vqa = await LxmertVqa.load({ model: folderSource(fx.dir), backend: 'cpu' });
    expect(vqa.info.labelsFrom).toBe('data/vqa-answers.json');
    expect(vqa.info.vocabFrom).toBe('the model (vocab.txt)');
    expect(await top5(vqa)).toEqual(want());
    vqa.dispose();
  });

  it('attention: the pooled token over the 36 regions, per cross layer and head', async () => {
    const vqa = await LxmertVqa.load({ model: converted, backend: 'cpu' });
    const c = fx.singles[0];
    const img = fx.images.get(c.img_id)!;
    const r = await vqa.answer(img, c.question, { attention: true, topK: 3 });
    expect(r.answers.map((a) => a.answer)).toEqual(c.top5_answers.slice(0, 3));
    const a = r.crossAttention!;
    expect([a.layers, a.heads, a.regions]).toEqual([
      fx.config.xLayers,
      fx.config.numAttentionHeads,
      36,
    ]);
    for (let row = 0; row < a.layers * a.heads; row++) {
      const sum = a.values.subarray(row * 36, (row + 1) * 36).reduce((s, v) => s + v, 0);
      expect(sum).toBeCloseTo(1, 5);
    }
    expect(r.regions.numBoxes).toBe(36);
    expect(r.regions.boxes.every((v) => v >= 0 && v <= 1)).toBe(true);
    // pixel boxes + image size give the same answers as the obj36 record
    const r2 = await vqa.answer(
      {
        features: img.features,
        boxes: img.boxes,
        numBoxes: 36,
        imageSize: { width: img.imgW, height: img.imgH },
      },
      c.question,
    );
    expect(r2.answers.map((x) => x.labelId)).toEqual(c.top5_labels);
    vqa.dispose();
  });

  it('options.labels; wrong counts, images without a detector and bad folders are refused', async () => {
    const renamed = fx.labels.map((s, i) => (i === 246 ? 'TEACHER' : s));
    const vqa = await LxmertVqa.load({ model: converted, backend: 'cpu', labels: renamed });
    expect(vqa.info.labelsFrom).toBe('options.labels');
    expect((await top5(vqa))[0][0]).toBe('TEACHER');
    await expect(
      vqa.answer({ width: 2, height: 2, data: new Uint8Array(16) }, 'q?'),
    ).rejects.toThrow(/detector/);
    await expect(vqa.answer(fx.images.get('demo_000001')!, '')).rejects.toThrow(InputError);
    await expect(vqa.answer({} as never, 'what?')).rejects.toThrow(/input: expected an image/);
    vqa.dispose();

    const before = tf.memory().numTensors;
    await expect(
      LxmertVqa.load({ model: converted, backend: 'cpu', labels: ['yes', 'no'] }),
    ).rejects.toThrow(InputError);
    expect(tf.memory().numTensors).toBe(before);

    const bare = join(tmp, 'bare');
    mkdirSync(bare);
    const cfg = JSON.parse(readFileSync(join(FIXTURES, 'lxmert-tiny', 'config.json'), 'utf8'));
    writeFileSync(
      join(bare, 'config.json'),
      JSON.stringify({ ...cfg, architectures: ['LxmertModel'] }),
    );
    // A copy: a link leading out of the model folder is refused (SECURITY.md).
    copyFileSync(
      join(FIXTURES, 'lxmert-tiny', 'model.safetensors'),
      join(bare, 'model.safetensors'),
    );
    await expect(LxmertVqa.load({ model: bare, backend: 'cpu' })).rejects.toThrow(/no answer head/);
    await expect(
      LxmertVqa.load({ model: join(FIXTURES, 'lxmert-tiny-qa'), backend: 'cpu' }),
    ).rejects.toThrow(/no built-in answer list has num_qa_labels = 9/);
    await expect(LxmertVqa.load({ model: join(tmp, 'missing'), backend: 'cpu' })).rejects.toThrow(
      WeightsError,
    );
    expect(() => LxmertVqa.start({ model: converted, worker: true })).toThrow(/options\.worker/);
  });

  it('an aborted load rejects with the reason and leaves nothing behind', async () => {
    const before = tf.memory().numTensors;
    const ctl = new AbortController();
    const p = LxmertVqa.load({
      model: converted,
      backend: 'cpu',
      signal: ctl.signal,
      onProgress: (e) => {
        if (e.status === 'done') ctl.abort(new DOMException('stop', 'AbortError'));
      },
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    const started = LxmertVqa.start({ model: converted, backend: 'cpu' });
    started.dispose();
    await expect(started.ready).rejects.toMatchObject({ name: 'AbortError' });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('LxmertVqa with a detector (frcnn-narrow, converted)', () => {
  let detTmp = '';
  let model = '';
  let detector = '';
  let direct: GeneralizedRCNN;
  const imgA = new Uint8Array(readFileSync(join(NARROW, 'img_a.png')));
  const imgB = new Uint8Array(readFileSync(join(NARROW, 'img_b.png')));
  const vgObjects = readFileSync(join(FIXTURES, '..', '..', 'data', 'vg-objects.txt'), 'utf8')
    .split('\n')
    .map((l) => l.split(',')[0].trim());

  beforeAll(async () => {
    detTmp = mkdtempSync(join(tmpdir(), 'lxmert-app-det-'));
    model = writeVqaNarrow(join(detTmp, 'vqa'));
    detector = join(detTmp, 'frcnn');
    await convertCheckpoint(NARROW, detector);
    await useBackend('wasm');
    const d = await loadDetector(detector);
    direct = GeneralizedRCNN.build(d.config, d.weights, { source: d.source });
  }, 120_000);
  afterAll(() => {
    direct?.dispose();
    rmSync(detTmp, { recursive: true, force: true });
  });

  it('detect(): the regions GeneralizedRCNN.detect gives, with Visual Genome names', async () => {
    const before = tf.memory().numTensors;
    const events: LoadProgressEvent[] = [];
    const vqa = await LxmertVqa.load({
      model,
      detector,
      backend: 'wasm',
      onProgress: (e) => events.push(e),
    });
    expect(vqa.info.detector).toBe(join(detector, 'model.json'));
    const detFiles = events.filter((e) => e.file.startsWith('detector/'));
    expect(detFiles.some((e) => e.status === 'done')).toBe(true);
    expect(events.at(-1)).toMatchObject({ status: 'ready', fraction: 1 });
    const want = await direct.detect(await readImageFile(join(NARROW, 'img_a.png')));
    const got = await vqa.detect(imgA);
    expect(got.numBoxes).toBe(36);
    expect(got.numDetections).toBe(want.numDetections);
    expect(got.imageSize).toEqual({ width: 320, height: 240 });
    expect(got.featureDim).toBe(NARROW_FEATURE_DIM);
    expect(got.boxes).toEqual(want.boxes);
    expect(got.normalizedBoxes).toEqual(want.normalizedBoxes);
    expect(got.features).toEqual(want.roiFeatures);
    expect(got.objectIds).toEqual(want.objIds);
    expect(got.objectProbs).toEqual(want.objProbs);
    expect(got.attributeIds).toEqual(want.attrIds);
    expect(got.attributeProbs).toEqual(want.attrProbs);
    expect(got.labels).toEqual(Array.from(want.objIds, (id) => vgObjects[id]));
    expect(got.attributeLabels).toHaveLength(36);
    vqa.dispose();
    expect(tf.memory().numTensors, 'tensors left after dispose').toBe(before);
  }, 120_000);

  it('answer(image): the answers of the same model fed the detections as regions, detected once', async () => {
    const vqa = await LxmertVqa.load({ model, detector, backend: 'wasm' });
    const d = await direct.detect(await readImageFile(join(NARROW, 'img_a.png')));
    const regions = {
      features: d.roiFeatures,
      boxes: d.normalizedBoxes,
      numBoxes: 36,
      ...(d.numDetections < 36 ? { attentionMask: d.visualAttentionMask } : {}),
    };
    const spy = vi.spyOn(GeneralizedRCNN.prototype, 'detect');
    try {
      const questions = ['What color is the cat?', 'How many people are there?'];
      for (const [i, q] of questions.entries()) {
        // The same picture again through another object: the cached detections.
        const got = await vqa.answer(i === 0 ? imgA : imgA.slice(), q, { topK: 5 });
        const ref = await vqa.answer(regions, q, { topK: 5 });
        expect(got.answers.map((a) => [a.labelId, a.answer])).toEqual(
          ref.answers.map((a) => [a.labelId, a.answer]),
        );
        got.answers.forEach((a, k) =>
          expect(Math.abs(a.score - ref.answers[k].score)).toBeLessThanOrEqual(1e-5),
        );
        expect(got.regions.numBoxes).toBe(36);
        expect(got.regions.boxes).toEqual(d.normalizedBoxes);
        expect(got.regions.labels).toEqual(Array.from(d.objIds, (id) => vgObjects[id]));
      }
      await vqa.detect(imgA);
      expect(spy).toHaveBeenCalledTimes(1);
      const b = await vqa.answer(imgB, questions[0]);
      expect(spy).toHaveBeenCalledTimes(2);
      expect(b.regions.boxes).not.toEqual(d.normalizedBoxes);
    } finally {
      spy.mockRestore();
      vqa.dispose();
    }
  }, 120_000);

  it('a detector URL: its shards go through the shard store, and come from it next time', async () => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname).replace(
        /^\/frcnn\//,
        '',
      );
      requests.push(path);
      try {
        const bytes = readFileSync(join(detector, basename(path)));
        res.writeHead(200, { 'content-length': bytes.byteLength }).end(bytes);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/frcnn/`;
    const stored = new Map<string, Uint8Array>();
    const manifests = new Map<string, string>();
    const store: ShardStore = {
      get: async (sha) => stored.get(sha),
      put: async (sha, bytes) => void stored.set(sha, bytes.slice()),
      delete: async (sha) => void stored.delete(sha),
      getManifest: async (u) => manifests.get(u),
      putManifest: async (u, text) => void manifests.set(u, text),
    };
    try {
      const m = JSON.parse(readFileSync(join(detector, 'model.json'), 'utf8')) as {
        shards: { path: string; sha256: string }[];
      };
      const want = await direct.detect(await readImageFile(join(NARROW, 'img_b.png')));
      for (const round of [1, 2]) {
        const vqa = await LxmertVqa.load({ model, detector: url, backend: 'wasm', cache: store });
        expect(vqa.info.detector).toBe(url);
        const got = await vqa.detect(imgB);
        expect(got.boxes).toEqual(want.boxes);
        expect(got.objectIds).toEqual(want.objIds);
        vqa.dispose();
        expect([...stored.keys()].sort()).toEqual(m.shards.map((s) => s.sha256).sort());
        expect(manifests.get(`${url}model.json`)).toBe(
          readFileSync(join(detector, 'model.json'), 'utf8'),
        );
        // shards fetched in the first round only; model.json each time (network first)
        expect(requests.filter((p) => p !== 'model.json')).toHaveLength(m.shards.length);
        expect(requests.filter((p) => p === 'model.json')).toHaveLength(round);
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  }, 120_000);

  it("over HTTP: answers of weights made ahead equal the folder's; every file announced before any byte, the fraction never goes back; abort mid-download frees everything", async () => {
    // Both over HTTP, in small shards; the server can hang on the detector's second shard.
    const conv = join(detTmp, 'vqa-converted');
    const det = join(detTmp, 'frcnn-small');
    await convertCheckpoint(model, conv, { shardSize: 200_000 });
    await convertCheckpoint(NARROW, det, { shardSize: 200_000 });
    const m = JSON.parse(readFileSync(join(det, 'model.json'), 'utf8')) as {
      shards: { path: string }[];
    };
    expect(m.shards.length).toBeGreaterThan(2);
    let stall = false;
    let stalledClosed = false;
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
      if (stall && path === `/frcnn/${m.shards[1].path}`) {
        req.socket.on('close', () => (stalledClosed = true)); // the client gave up on it
        return;
      }
      const [, dir, file] = /^\/(vqa|frcnn)\/([^/]+)$/.exec(path) ?? [];
      try {
        const bytes = readFileSync(join(dir === 'vqa' ? conv : det, file));
        res.writeHead(200, { 'content-length': bytes.byteLength }).end(bytes);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const [url, vqaUrl] = [`${host}/frcnn/`, `${host}/vqa/`];
    try {
      const events: LoadProgressEvent[] = [];
      const start = tf.memory().numTensors;
      const vqa = await LxmertVqa.load({
        model: vqaUrl,
        detector: url,
        backend: 'wasm',
        cache: false,
        onWarning: () => undefined, // no data/ for the Visual Genome names here
        onProgress: (e) => events.push(e),
      });
      // Built from device weights made while the files streamed in: the answers of the folder.
      const before = tf.memory().numTensors;
      const folderVqa = await LxmertVqa.load({ model, detector, backend: 'wasm' });
      for (const q of ['What color is the cat?', 'How many people are there?']) {
        const got = await vqa.answer(imgA.slice(), q);
        const want = await folderVqa.answer(imgA.slice(), q);
        expect(got.answers.map((a) => a.labelId)).toEqual(want.answers.map((a) => a.labelId));
        got.answers.forEach((a, k) =>
          expect(Math.abs(a.score - want.answers[k].score)).toBeLessThanOrEqual(1e-5),
        );
      }
      folderVqa.dispose();
      expect(tf.memory().numTensors).toBe(before);
      vqa.dispose();
      const firstBytes = events.findIndex((e) => e.status !== 'initiate');
      const initiated = events.slice(0, firstBytes);
      expect(initiated.every((e) => e.status === 'initiate')).toBe(true);
      expect(initiated.filter((e) => e.file.startsWith('detector/'))).toHaveLength(m.shards.length);
      expect(events.slice(firstBytes).some((e) => e.status === 'initiate')).toBe(false);
      const total = events[firstBytes].totalBytes;
      expect(events.slice(firstBytes).every((e) => e.totalBytes === total)).toBe(true);
      const f = events.map((e) => e.fraction);
      expect(f.every((x, i) => i === 0 || x >= f[i - 1])).toBe(true);
      expect(events.at(-1)).toMatchObject({ status: 'ready', fraction: 1, loadedBytes: total });

      // Abort once the detector's first shard is in, while its second one hangs.
      stall = true;
      const empty = tf.memory().numTensors;
      expect(empty, 'tensors left after dispose (weights made ahead included)').toBe(start);
      const ctl = new AbortController();
      const t0 = performance.now();
      const load = LxmertVqa.load({
        model: vqaUrl,
        detector: url,
        backend: 'wasm',
        cache: false,
        onWarning: () => undefined,
        signal: ctl.signal,
        onProgress: (e) => {
          if (e.status === 'done' && e.file === `detector/${m.shards[0].path}`) {
            ctl.abort(new DOMException('test', 'AbortError'));
          }
        },
      });
      await expect(load).rejects.toMatchObject({ name: 'AbortError' });
      expect(performance.now() - t0).toBeLessThan(20_000); // not the 30 s stall timeout
      await new Promise((r) => setTimeout(r, 100));
      expect(stalledClosed, "the hanging shard's fetch was aborted").toBe(true);
      expect(tf.memory().numTensors, 'tensors left after the aborted load').toBe(empty);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  }, 120_000);

  it('bad images and detector sources are refused', async () => {
    const vqa = await LxmertVqa.load({ model, detector, backend: 'wasm' });
    await expect(vqa.detect(new Uint8Array([1, 2, 3]))).rejects.toThrow(
      /image: expected a PNG or JPEG image/,
    );
    await expect(vqa.detect('x.png' as never)).rejects.toThrow(InputError);
    vqa.dispose();
    const plain = await LxmertVqa.load({ model, backend: 'wasm' });
    await expect(plain.detect(imgA)).rejects.toThrow(/detector: expected a detector/);
    plain.dispose();
    await expect(
      LxmertVqa.load({ model, detector: join(detTmp, 'missing'), backend: 'wasm' }),
    ).rejects.toThrow(WeightsError);
  }, 120_000);
});
