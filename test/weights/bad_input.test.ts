/**
 * Bad input fails fast with one typed error naming what and where, and leaves no output
 * folder (nor its temporary twin) behind.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LxmertError } from '../../src/errors.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { readSafetensors, writeSafetensors } from '../../src/weights/safetensors.js';
import { TorchZipWriter } from '../../src/weights/torch_writer.js';
import { FIXTURES, listDir, tempDir } from './helpers.js';

const tmp = tempDir('bad');
const TINY = join(FIXTURES, 'lxmert-tiny');
const config = () => JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8'));
const ref = () => readSafetensors(new Uint8Array(readFileSync(join(TINY, 'model.safetensors'))));

/** Safetensors bytes from a header object and a data buffer. */
function craft(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** The fixture's safetensors with its header edited by `edit`. */
function editHeader(
  edit: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void,
) {
  const buf = readFileSync(join(TINY, 'model.safetensors'));
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  edit(header);
  return craft(header, buf.subarray(8 + n));
}

let count = 0;
interface Case {
  files: Record<string, Uint8Array | string>;
  error: RegExp;
}

async function expectFailure({ files, error }: Case): Promise<void> {
  const src = join(tmp, `src-${count}`);
  const parent = join(tmp, `parent-${count++}`);
  mkdirSync(src);
  mkdirSync(parent);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(src, name), content);
  const t0 = performance.now();
  const err = await convertCheckpoint(src, join(parent, 'out')).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(performance.now() - t0).toBeLessThan(5000);
  expect(err).toBeInstanceOf(LxmertError);
  expect((err as Error).message).toMatch(error);
  expect(listDir(parent)).toEqual([]);
}

const cfg = JSON.stringify(config());
const st = readFileSync(join(TINY, 'model.safetensors'));
const zipBin = readFileSync(join(TINY, 'pytorch_model.bin'));
const legacyBin = readFileSync(join(TINY, 'pytorch_model_legacy.bin'));
const random = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);

async function evilZip(pickleHex: string): Promise<Uint8Array> {
  const p = join(tmp, `evil-${count++}.bin`);
  const w = await TorchZipWriter.create(p);
  await w.close(Uint8Array.from(Buffer.from(pickleHex, 'hex')));
  return readFileSync(p);
}

const CASES: Record<string, () => Case | Promise<Case>> = {
  'truncated safetensors': () => ({
    files: { 'config.json': cfg, 'model.safetensors': st.subarray(0, Math.floor(st.length * 0.6)) },
    error: /model\.safetensors: tensor '.*': data_offsets .* run past the end of the data/,
  }),
  'safetensors header length past the end': () => {
    const b = Uint8Array.from(st);
    new DataView(b.buffer).setBigUint64(0, 10n ** 9n, true);
    return {
      files: { 'config.json': cfg, 'model.safetensors': b },
      error: /header length 1000000000 runs past the end/,
    };
  },
  'overlapping offsets': () => ({
    files: {
      'config.json': cfg,
      'model.safetensors': editHeader((h) => {
        h['lxmert.embeddings.LayerNorm.bias'].data_offsets =
          h['lxmert.embeddings.LayerNorm.weight'].data_offsets;
      }),
    },
    error: /tensors '.*LayerNorm\.(weight|bias)' and '.*LayerNorm\.(weight|bias)' overlap/,
  }),
  'out-of-range offsets': () => ({
    files: {
      'config.json': cfg,
      'model.safetensors': editHeader((h) => {
        h['lxmert.pooler.dense.bias'].data_offsets = [10 ** 8, 10 ** 8 + 256];
      }),
    },
    error:
      /tensor 'lxmert\.pooler\.dense\.bias': data_offsets \[100000000, 100000256\] run past the end/,
  }),
  'unknown dtype': () => ({
    files: {
      'config.json': cfg,
      'model.safetensors': editHeader((h) => {
        h['lxmert.pooler.dense.bias'].dtype = 'Q4';
      }),
    },
    error: /tensor 'lxmert\.pooler\.dense\.bias': unknown dtype "Q4"/,
  }),
  'shape disagrees with the byte count': () => ({
    files: {
      'config.json': cfg,
      'model.safetensors': editHeader((h) => {
        h['lxmert.pooler.dense.bias'].shape = [65];
      }),
    },
    error: /'lxmert\.pooler\.dense\.bias': F32 \[65\] needs 260 bytes, data_offsets give 256/,
  }),
  'shapes disagree with config.json': () => ({
    files: {
      'config.json': JSON.stringify({ ...config(), vocab_size: 513 }),
      'model.safetensors': st,
    },
    error:
      /mis-shaped: lxmert\.embeddings\.word_embeddings\.weight \[512, 64\] \(config wants \[513, 64\]\)/,
  }),
  'missing tensors': () => {
    const m = ref();
    m.delete('lxmert.pooler.dense.bias');
    m.delete('answer_head.logit_fc.3.weight');
    return {
      files: { 'config.json': cfg, 'model.safetensors': writeSafetensors(m) },
      error: /2 missing: lxmert\.pooler\.dense\.bias, answer_head\.logit_fc\.3\.weight/,
    };
  },
  'integer weights': () => {
    const m = ref();
    const t = m.get('lxmert.pooler.dense.bias')!;
    m.set('lxmert.pooler.dense.bias', { ...t, dtype: 'I32' });
    return {
      files: { 'config.json': cfg, 'model.safetensors': writeSafetensors(m) },
      error: /not floating point: lxmert\.pooler\.dense\.bias \(I32 \[64\]\)/,
    };
  },
  'broken config.json': () => ({
    files: { 'config.json': '{"hidden_size": 64,', 'model.safetensors': st },
    error: /config\.\(file\): expected valid JSON/,
  }),
  'inconsistent config.json': () => ({
    files: {
      'config.json': JSON.stringify({ ...config(), num_attention_heads: 5 }),
      'model.safetensors': st,
    },
    error: /config\.hidden_size: expected a multiple of num_attention_heads \(5\)/,
  }),
  'no config.json': () => ({
    files: { 'model.safetensors': st },
    error: /no config\.json in the folder/,
  }),
  'no weights': () => ({
    files: { 'config.json': cfg },
    error: /no weights: looked for model\.safetensors/,
  }),
  'pickle that is not a dict': async () => ({
    files: { 'config.json': cfg, 'pytorch_model.bin': await evilZip('80025d7100284b014b02652e') },
    error: /pickle holds a list, not a state_dict/,
  }),
  'malicious pickle': async () => ({
    files: {
      'config.json': cfg,
      'pytorch_model.bin': await evilZip(
        '80027d7100580100000077710163706f7369780a73797374656d0a7102580a0000006563686f2070776e65647103857104527105732e',
      ),
    },
    error: /pickle global 'posix\.system' is not allowed/,
  }),
  'empty pytorch_model.bin': () => ({
    files: { 'config.json': cfg, 'pytorch_model.bin': new Uint8Array(0) },
    error: /pytorch_model\.bin: empty file/,
  }),
  'empty model.safetensors': () => ({
    files: { 'config.json': cfg, 'model.safetensors': new Uint8Array(0) },
    error: /model\.safetensors: not a safetensors file: 0 bytes/,
  }),
  'random pytorch_model.bin': () => ({
    files: { 'config.json': cfg, 'pytorch_model.bin': random },
    error: /pytorch_model\.bin: not a PyTorch checkpoint/,
  }),
  'random model.safetensors': () => ({
    files: { 'config.json': cfg, 'model.safetensors': random },
    error: /model\.safetensors: header length \d+ runs past the end/,
  }),
  'truncated zip .bin': () => ({
    files: {
      'config.json': cfg,
      'pytorch_model.bin': zipBin.subarray(0, Math.floor(zipBin.length * 0.7)),
    },
    error: /pytorch_model\.bin: zip: no end-of-central-directory record/,
  }),
  'truncated legacy .bin': () => ({
    files: {
      'config.json': cfg,
      'pytorch_model.bin': legacyBin.subarray(0, Math.floor(legacyBin.length * 0.7)),
    },
    error: /pytorch_model\.bin: truncated/,
  }),
  'legacy .bin cut inside its pickle': () => ({
    files: { 'config.json': cfg, 'pytorch_model.bin': legacyBin.subarray(0, 5000) },
    error: /pytorch_model\.bin: pickle: truncated/,
  }),
};

describe('bad input', () => {
  for (const [name, make] of Object.entries(CASES)) {
    it(name, async () => expectFailure(await make()));
  }
  it('SRC that is neither a folder nor a Hub id', async () => {
    await expect(convertCheckpoint(join(tmp, 'nope', 'x'), join(tmp, 'o'))).rejects.toThrow(
      /no such folder/,
    );
  });
  it('an OUTDIR that exists and is not empty is left alone', async () => {
    const o = join(tmp, 'existing');
    mkdirSync(o);
    copyFileSync(join(TINY, 'config.json'), join(o, 'keep.json'));
    await expect(convertCheckpoint(TINY, o)).rejects.toThrow(/already exists/);
    expect(listDir(o)).toEqual(['keep.json']);
  });
  it('an empty OUTDIR is replaced', async () => {
    const o = join(tmp, 'empty-out');
    mkdirSync(o);
    await convertCheckpoint(TINY, o);
    expect(listDir(o)).toContain('model.json');
  });
});
