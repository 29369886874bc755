/**
 * Class 3 of issue 12: claims that do not match reality. Duplicate tensor names, bytes that no
 * tensor covers, a manifest whose per-weight dtype contradicts the file's dtype, a tied-weight
 * map aliasing an arbitrary weight, an unknown architecture (found before any shard is read).
 */
import { appendFileSync, cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { WeightsError } from '../../src/errors.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { loadConverted } from '../../src/weights/loader.js';
import { fsReader, nodeSha256 } from '../../src/weights/loader_node.js';
import { parseManifest } from '../../src/weights/manifest.js';
import { openWeights } from '../../src/weights/reader.js';
import { parseSafetensorsHeader, readSafetensors } from '../../src/weights/safetensors.js';
import { expectOneLineError, lxmert } from '../helpers/cli.js';
import { copyOf, rawSafetensors, tempDir, thrown, TINY } from './helpers.js';

const tmp = tempDir('sec-claims');
const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

describe('safetensors headers say one thing per tensor, and nothing else', () => {
  it('a tensor named twice is refused, naming it', () => {
    const header =
      '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    const err = (() => {
      try {
        readSafetensors(rawSafetensors(header, f32(1, 2)), 'dup.safetensors');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(WeightsError);
    expect(err!.message).toMatch(/dup\.safetensors: header: key "w" appears twice/);
  });

  it('a name written with escapes is the same name', () => {
    const header =
      '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"\\u0077":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expect(() => readSafetensors(rawSafetensors(header, f32(1, 2)), 'esc')).toThrow(
      /key "w" appears twice/,
    );
  });

  it('bytes between tensors, and after the last, belong to no tensor', () => {
    const gap =
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
    expect(() => readSafetensors(rawSafetensors(gap, f32(1, 2, 3)), 'gap')).toThrow(
      /gap: data bytes 4\.\.8 belong to no tensor \(before 'b'\)/,
    );
    const tail = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    expect(() =>
      parseSafetensorsHeader(rawSafetensors(tail, f32(1, 2)), 8 + tail.length + 8, 'tail'),
    ).toThrow(/tail: data bytes 4\.\.8 at the end belong to no tensor/);
  });

  it('an exact file still reads (the check does not refuse honest files)', () => {
    const ok =
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},' +
      '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    const t = readSafetensors(rawSafetensors(ok, f32(1, 2, 3)), 'ok');
    expect([...new Float32Array(t.get('b')!.bytes.slice().buffer)]).toEqual([2, 3]);
  });

  it('a checkpoint whose header names a weight twice is refused by openWeights', async () => {
    const dir = copyOf(TINY, ['config.json'], join(tmp, 'dup-ckpt'));
    const header =
      '{"lxmert.pooler.dense.bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"lxmert.pooler.dense.bias":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    writeFileSync(join(dir, 'model.safetensors'), rawSafetensors(header, f32(1, 2)));
    const err = await thrown(() => openWeights(dir));
    expect(err.message).toMatch(/model\.safetensors: header: key "lxmert\.pooler\.dense\.bias"/);
  });

  it('CLI: infer refuses an inputs file naming input_ids twice', () => {
    const header =
      '{"input_ids":{"dtype":"I32","shape":[1,1],"data_offsets":[0,4]},' +
      '"input_ids":{"dtype":"I32","shape":[1,1],"data_offsets":[4,8]}}';
    const inputs = join(tmp, 'dup-inputs.safetensors');
    writeFileSync(inputs, rawSafetensors(header, new Uint8Array(8)));
    const r = lxmert(
      ['infer', '--model', TINY, '--inputs', inputs, '--output', join(tmp, 'o.safetensors')],
      undefined,
      30_000,
    );
    expect(expectOneLineError(r)).toMatch(
      /dup-inputs\.safetensors: header: key "input_ids" appears twice/,
    );
  });
});

describe('a converted manifest is believed only where it agrees with itself', () => {
  let dir16: string;
  let manifest: Record<string, unknown>;
  type Editable = {
    weightsManifest: { weights: { name: string; quantization?: unknown }[] }[];
    dtype: string;
    tiedWeights: unknown;
    architecture: string;
  };
  beforeAll(async () => {
    dir16 = join(tmp, 'f16');
    await convertCheckpoint(TINY, dir16, { dtype: 'float16' });
    manifest = JSON.parse(readFileSync(join(dir16, 'model.json'), 'utf8'));
  });
  const edited = (edit: (m: Editable) => void) => {
    const m = structuredClone(manifest) as unknown as Editable;
    edit(m);
    return m;
  };

  it('the unedited manifest parses (so the refusals below are about the edit)', () => {
    expect(() => parseManifest(manifest, 'model.json')).not.toThrow();
  });

  it('a weight stored as float32 in a float16 file is refused, naming the weight', () => {
    const m = edited((x) => {
      delete x.weightsManifest[0].weights[3].quantization;
    });
    const name = (manifest as unknown as Editable).weightsManifest[0].weights[3].name;
    expect(() => parseManifest(m, 'model.json')).toThrow(
      new RegExp(
        `weight "${name.replace(/\./g, '\\.')}": stored as float32, but a float16 model stores it as float16`,
      ),
    );
  });

  it('a float16 weight in a float32 file is refused', () => {
    const m = edited((x) => {
      x.dtype = 'float32';
    });
    expect(() => parseManifest(m, 'model.json')).toThrow(/stored as float16, but a float32 model/);
  });

  it('a tied-weight map aliasing an arbitrary weight is refused', () => {
    for (const tied of [
      { 'lxmert.pooler.dense.weight': 'lxmert.embeddings.word_embeddings.weight' },
      { 'cls.predictions.decoder.weight': 'lxmert.pooler.dense.weight' },
    ]) {
      const m = edited((x) => {
        x.tiedWeights = tied;
      });
      expect(() => parseManifest(m, 'model.json')).toThrow(/is not a tied pair of the model/);
    }
  });

  it('an unknown architecture is refused before any shard is read', async () => {
    const m = edited((x) => {
      x.architecture = 'LxmertForWorldDomination';
    });
    const reads: string[] = [];
    const base = fsReader(dir16);
    const err = await thrown(() =>
      loadConverted(dir16, {
        sha256: nodeSha256,
        readFile: async (path, onBytes) => {
          reads.push(path);
          return path === 'model.json'
            ? new TextEncoder().encode(JSON.stringify(m))
            : base(path, onBytes);
        },
      }),
    );
    expect(err).toBeInstanceOf(WeightsError);
    expect(err.message).toMatch(/architecture "LxmertForWorldDomination" is not one of/);
    expect(reads).toEqual(['model.json']);
  });

  it('a shard larger than model.json announces is refused from its size, unread', async () => {
    const dir = join(tmp, 'grown');
    cpSync(dir16, dir, { recursive: true });
    const shard = readdirSync(dir).find((f) => f.endsWith('.bin'))!;
    const before = readFileSync(join(dir, shard)).length;
    appendFileSync(join(dir, shard), new Uint8Array(1 << 20));
    const err = await thrown(() => loadCheckpoint(dir));
    expect(err).toBeInstanceOf(WeightsError);
    expect(err.message).toMatch(
      new RegExp(`${shard}: ${before + (1 << 20)} bytes, model\\.json says ${before}; not read`),
    );
  });

  it('a model.json nested 100,000 deep is a WeightsError, not a RangeError', async () => {
    const dir = join(tmp, 'deep-manifest');
    cpSync(dir16, dir, { recursive: true });
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    writeFileSync(join(dir, 'model.json'), `{"config": ${deep}}`);
    const err = await thrown(() => loadCheckpoint(dir));
    expect(err).toBeInstanceOf(WeightsError);
    expect(err.message).toMatch(/model\.json: nested deeper than 64 levels/);
  });
});
