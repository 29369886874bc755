/**
 * The converter on the tiny fixtures: every source format converts to identical shards, the
 * three dtypes decode to what they should, tied weights are stored once, shards split where
 * asked, labels and vocab are attached, and loadCheckpoint reads every layout.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WeightsError } from '../../src/errors.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import type { LxmertManifest } from '../../src/weights/manifest.js';
import { f16ToF32, f32ToF16Bits } from '../../src/codec/float16.js';
import { toFloat32, type RawTensor } from '../../src/codec/raw_tensor.js';
import { openWeights } from '../../src/weights/reader.js';
import { readSafetensors, writeSafetensors } from '../../src/weights/safetensors.js';
import { TorchZipWriter } from '../../src/weights/torch_writer.js';
import { FIXTURES, listDir, tempDir } from './helpers.js';

const tmp = tempDir('convert');
const TIED = 'cls.predictions.decoder.weight';
const WORD = 'lxmert.embeddings.word_embeddings.weight';

function reference(model: string): Map<string, RawTensor> {
  return readSafetensors(new Uint8Array(readFileSync(join(FIXTURES, model, 'model.safetensors'))));
}

/** A folder with the fixture's config and one weights file. */
function only(model: string, file: string, as = 'pytorch_model.bin'): string {
  const dir = join(tmp, `${model}-${file}`);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(FIXTURES, model, 'config.json'), join(dir, 'config.json'));
  copyFileSync(join(FIXTURES, model, file), join(dir, as));
  return dir;
}

let n = 0;
const out = (tag: string) => join(tmp, `out-${tag}-${n++}`);

describe('every source format converts to identical tensors', () => {
  const sources: [string, () => string][] = [
    ['lxmert-tiny safetensors', () => join(FIXTURES, 'lxmert-tiny')],
    ['lxmert-tiny zip .bin', () => only('lxmert-tiny', 'pytorch_model.bin')],
    ['lxmert-tiny legacy .bin', () => only('lxmert-tiny', 'pytorch_model_legacy.bin')],
  ];
  const shas: string[][] = [];
  for (const [label, src] of sources) {
    it(label, async () => {
      const r = await convertCheckpoint(src(), out('fmt'), { shardSize: 100_000 });
      shas.push(r.manifest.shards.map((s) => s.sha256));
      expect(r.manifest.shards.length).toBe(Math.ceil(r.bytes / 100_000));
      expect(r.manifest.shards.map((s) => s.path)[0]).toBe(
        `group1-shard1of${r.manifest.shards.length}.bin`,
      );
      const ck = await loadCheckpoint(r.outDir);
      const ref = reference('lxmert-tiny');
      for (const [name, t] of ref) {
        expect(Buffer.from(ck.weights.get(name)!.bytes).equals(Buffer.from(t.bytes)), name).toBe(
          true,
        );
      }
      // Tied decoder stored once, aliased on load.
      expect(r.manifest.weightsManifest[0].weights.some((w) => w.name === TIED)).toBe(false);
      expect(r.manifest.tiedWeights).toEqual({ [TIED]: WORD });
      expect(ck.weights.get(TIED)).toBe(ck.weights.get(WORD));
    });
  }
  it('all three produced byte-identical shards', () => {
    expect(shas.length).toBe(3);
    expect(shas[1]).toEqual(shas[0]);
    expect(shas[2]).toEqual(shas[0]);
  });
  for (const model of ['lxmert-tiny-qa', 'lxmert-tiny-sharp']) {
    it(`${model}: zip .bin and safetensors give identical shards`, async () => {
      const a = await convertCheckpoint(join(FIXTURES, model), out('st'));
      const b = await convertCheckpoint(only(model, 'pytorch_model.bin'), out('bin'));
      expect(b.manifest.shards).toEqual(a.manifest.shards);
    });
  }
});

describe('dtypes', () => {
  const ref = reference('lxmert-tiny');
  const conv: Record<string, LxmertManifest> = {};
  const loaded: Record<string, Map<string, RawTensor>> = {};
  beforeAll(async () => {
    for (const dtype of ['float32', 'float16', 'int8'] as const) {
      const r = await convertCheckpoint(join(FIXTURES, 'lxmert-tiny'), out(dtype), { dtype });
      conv[dtype] = r.manifest;
      loaded[dtype] = (await loadCheckpoint(r.outDir)).weights;
    }
  });
  const bytes = (m: LxmertManifest) => m.shards.reduce((a, s) => a + s.bytes, 0);
  it('float16 is half the float32 bytes and rounds each value to nearest', () => {
    expect(bytes(conv.float16) / bytes(conv.float32)).toBe(0.5);
    for (const [name, t] of loaded.float16) {
      const want = toFloat32(ref.get(name)!).map((v) => f16ToF32(f32ToF16Bits(v)));
      expect(Array.from(toFloat32(t)), name).toEqual(Array.from(want));
    }
  });
  it('int8 quantizes matrices per row (error ≤ half a step), keeps vectors exact', () => {
    expect(bytes(conv.int8) / bytes(conv.float32)).toBeLessThan(0.3);
    for (const [name, t] of loaded.int8) {
      const r = toFloat32(ref.get(name)!);
      const g = toFloat32(t);
      if (t.shape.length !== 2) {
        expect(Array.from(g), name).toEqual(Array.from(r));
        continue;
      }
      const cols = t.shape[1];
      let worst = 0; // error in units of half a quantization step
      for (let row = 0; row < t.shape[0]; row++) {
        let max = 0;
        for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(r[row * cols + c]));
        for (let c = 0; c < cols; c++) {
          const err = Math.abs(g[row * cols + c] - r[row * cols + c]);
          worst = Math.max(worst, max ? err / (max / 254) : err);
        }
      }
      expect(worst, name).toBeLessThanOrEqual(1 + 1e-4);
    }
  });
});

describe('sharded sources', () => {
  it('model.safetensors.index.json over two shards, and pytorch_model.bin.index.json', async () => {
    const ref = reference('lxmert-tiny');
    const names = [...ref.keys()].filter((k) => k !== TIED); // HF's save_pretrained leaves the tie out
    const halves = [names.slice(0, 100), names.slice(100)];
    const st = join(tmp, 'sharded-st');
    const bin = join(tmp, 'sharded-bin');
    for (const d of [st, bin]) {
      mkdirSync(d);
      copyFileSync(join(FIXTURES, 'lxmert-tiny', 'config.json'), join(d, 'config.json'));
    }
    const stMap: Record<string, string> = {};
    const binMap: Record<string, string> = {};
    for (let i = 0; i < 2; i++) {
      const stName = `model-0000${i + 1}-of-00002.safetensors`;
      const binName = `pytorch_model-0000${i + 1}-of-00002.bin`;
      writeFileSync(
        join(st, stName),
        writeSafetensors(new Map(halves[i].map((k) => [k, ref.get(k)!]))),
      );
      const w = await TorchZipWriter.create(join(bin, binName));
      for (const k of halves[i]) {
        await w.add(k, ref.get(k)!);
        stMap[k] = stName;
        binMap[k] = binName;
      }
      await w.close();
    }
    writeFileSync(
      join(st, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: {}, weight_map: stMap }),
    );
    writeFileSync(
      join(bin, 'pytorch_model.bin.index.json'),
      JSON.stringify({ weight_map: binMap }),
    );
    const whole = await convertCheckpoint(join(FIXTURES, 'lxmert-tiny'), out('whole'));
    for (const d of [st, bin]) {
      const r = await convertCheckpoint(d, out('sharded'));
      expect(r.manifest.shards).toEqual(whole.manifest.shards);
      expect(r.manifest.source.files.map((f) => f.path)[0]).toMatch(/index\.json$/);
      const ck = await loadCheckpoint(d);
      expect(
        Buffer.from(ck.weights.get(TIED)!.bytes).equals(Buffer.from(ref.get(WORD)!.bytes)),
      ).toBe(true);
    }
  });
});

describe('sharded sources that disagree with their index', () => {
  it('a tensor the index names but no shard holds, and a tensor in two shards, are refused', async () => {
    const ref = reference('lxmert-tiny');
    const [a, b] = [...ref.keys()];
    const dir = join(tmp, 'sharded-bad');
    mkdirSync(dir);
    writeFileSync(join(dir, 's1.safetensors'), writeSafetensors(new Map([[a, ref.get(a)!]])));
    writeFileSync(
      join(dir, 's2.safetensors'),
      writeSafetensors(new Map([a, b].map((k) => [k, ref.get(k)!]))),
    );
    const index = (weightMap: Record<string, string>) =>
      writeFileSync(
        join(dir, 'model.safetensors.index.json'),
        JSON.stringify({ weight_map: weightMap }),
      );
    index({ [a]: 's1.safetensors', 'no.such.tensor': 's1.safetensors' });
    await expect(openWeights(dir)).rejects.toThrow(
      '1 tensor(s) named in the index are not in their shard: no.such.tensor (s1.safetensors)',
    );
    index({ [a]: 's1.safetensors', [b]: 's2.safetensors' });
    const err = await openWeights(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightsError);
    expect((err as Error).message).toContain(`tensor '${a}' is in more than one shard`);
  });
});

describe('labels and vocab', () => {
  it('lxmert-vqa-tiny gets the 3129 VQA answers and its vocab.txt', async () => {
    const r = await convertCheckpoint(join(FIXTURES, 'lxmert-vqa-tiny'), out('vqa'), {
      dtype: 'int8',
    });
    expect(listDir(r.outDir)).toEqual([
      'group1-shard1of1.bin',
      'labels.json',
      'model.json',
      'vocab.txt',
    ]);
    const ck = await loadCheckpoint(r.outDir);
    const answers = JSON.parse(
      readFileSync(join(FIXTURES, '..', '..', 'data', 'vqa-answers.json'), 'utf8'),
    );
    expect(ck.labels).toEqual(answers);
    expect(ck.vocab).toBe(readFileSync(join(FIXTURES, 'lxmert-vqa-tiny', 'vocab.txt'), 'utf8'));
    expect((await loadCheckpoint(join(FIXTURES, 'lxmert-vqa-tiny'))).labels).toEqual(answers);
  });
  it('--labels FILE (one a line or JSON) must match num_qa_labels', async () => {
    const txt = join(tmp, 'labels9.txt');
    writeFileSync(txt, Array.from({ length: 9 }, (_, i) => `answer ${i}`).join('\n') + '\n');
    const r = await convertCheckpoint(join(FIXTURES, 'lxmert-tiny-qa'), out('lab'), {
      labels: txt,
    });
    expect(r.manifest.labels?.count).toBe(9);
    expect((await loadCheckpoint(r.outDir)).labels?.[8]).toBe('answer 8');
    const bad = join(tmp, 'labels3.json');
    writeFileSync(bad, JSON.stringify(['a', 'b', 'c']));
    const o = out('lab');
    await expect(
      convertCheckpoint(join(FIXTURES, 'lxmert-tiny-qa'), o, { labels: bad }),
    ).rejects.toThrow(/3 labels, but config.num_qa_labels is 9/);
  });
  it('tiny models with no known labels get none', async () => {
    const r = await convertCheckpoint(join(FIXTURES, 'lxmert-tiny-qa'), out('nolab'));
    expect(r.manifest.labels).toBeUndefined();
    expect(r.manifest.vocab).toBeUndefined();
  });
});
