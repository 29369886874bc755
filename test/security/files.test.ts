/**
 * Classes 1 and 2 of issue 12: files that are not regular files (named pipes, devices,
 * folders) are refused by kind before they are opened, symbolic links may not lead out of
 * the folder they are read from, and outputs are checked before any work and written through
 * exclusive, unpredictable temporary names.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LxmertError, TokenizerError, WeightsError } from '../../src/errors.js';
import { writeFileAtomic } from '../../src/cli/atomic_write.js';
import { loadTokenizer } from '../../src/tokenizer/node.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { openWeights } from '../../src/weights/reader.js';
import { expectOneLineError, lxmert } from '../helpers/cli.js';
import { copyOf, mkfifo, tempDir, thrown, TINY } from './helpers.js';

const tmp = tempDir('sec-files');
let n = 0;
const fresh = (tag: string) => join(tmp, `${tag}-${n++}`);

/** A failure must be quick (a blocked open or an endless read would time the test out). */
async function refusedQuickly(fn: () => unknown, pattern: RegExp, type = LxmertError) {
  const t0 = performance.now();
  const err = await thrown(fn);
  expect(performance.now() - t0).toBeLessThan(5000);
  expect(err).toBeInstanceOf(type);
  expect(err.message).toMatch(pattern);
  expect(err.message).not.toContain('\n');
}

describe('not a regular file: refused by kind, before the open', () => {
  it('config.json as a named pipe', async () => {
    const dir = copyOf(TINY, ['model.safetensors'], fresh('cfg-fifo'));
    mkfifo(join(dir, 'config.json'));
    await refusedQuickly(
      () => loadCheckpoint(dir),
      /config\.json: a named pipe, expected a regular file/,
    );
  });

  it('config.json as a folder', async () => {
    const dir = copyOf(TINY, ['model.safetensors'], fresh('cfg-dir'));
    mkdirSync(join(dir, 'config.json'));
    await refusedQuickly(
      () => loadCheckpoint(dir),
      /config\.json: a folder, expected a regular file/,
    );
  });

  it('config.json as a link to /dev/zero (leaves the folder)', async () => {
    const dir = copyOf(TINY, ['model.safetensors'], fresh('cfg-zero'));
    symlinkSync('/dev/zero', join(dir, 'config.json'));
    await refusedQuickly(
      () => loadCheckpoint(dir),
      /config\.json: a symbolic link leading outside/,
    );
  });

  it('the weights file as a named pipe', async () => {
    const dir = copyOf(TINY, ['config.json'], fresh('w-fifo'));
    mkfifo(join(dir, 'model.safetensors'));
    await refusedQuickly(() => openWeights(dir), /model\.safetensors: a named pipe/, WeightsError);
  });

  it("an index's shard as a named pipe, and as a folder", async () => {
    const dir = copyOf(TINY, ['config.json'], fresh('shard-fifo'));
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { a: 'a.safetensors', b: 'b.safetensors' } }),
    );
    mkfifo(join(dir, 'a.safetensors'));
    mkdirSync(join(dir, 'b.safetensors'));
    await refusedQuickly(() => openWeights(dir), /a\.safetensors: a named pipe/, WeightsError);
  });

  it('the index itself as a named pipe', async () => {
    const dir = copyOf(TINY, ['config.json'], fresh('index-fifo'));
    mkfifo(join(dir, 'pytorch_model.bin.index.json'));
    await refusedQuickly(() => openWeights(dir), /index\.json: a named pipe/, WeightsError);
  });

  it('a torch .bin as a device (link to /dev/zero inside a model folder)', async () => {
    const dir = copyOf(TINY, ['config.json'], fresh('bin-zero'));
    symlinkSync('/dev/zero', join(dir, 'pytorch_model.bin'));
    await refusedQuickly(
      () => openWeights(dir),
      /pytorch_model\.bin: a symbolic link leading outside/,
    );
  });

  it('vocab.txt as a named pipe (tokenizer folder and checkpoint folder)', async () => {
    const dir = copyOf(TINY, ['config.json', 'model.safetensors'], fresh('vocab-fifo'));
    mkfifo(join(dir, 'vocab.txt'));
    await refusedQuickly(() => loadTokenizer(dir), /vocab\.txt: a named pipe/, TokenizerError);
    await refusedQuickly(() => loadCheckpoint(dir), /vocab\.txt: a named pipe/);
  });

  it('a --vocab given as /dev/zero is refused as a device', async () => {
    await refusedQuickly(() => loadTokenizer('/dev/zero'), /\/dev\/zero: a device/, TokenizerError);
  });

  it('CLI: infer --inputs as a named pipe and as /dev/zero; tokenize --vocab as a pipe', () => {
    const fifo = mkfifo(fresh('inputs.fifo'));
    for (const inputs of [fifo, '/dev/zero']) {
      const r = lxmert(
        ['infer', '--model', TINY, '--inputs', inputs, '--output', fresh('o.safetensors')],
        undefined,
        20_000,
      );
      expect(expectOneLineError(r)).toMatch(/InputError: --inputs: .*(named pipe|a device)/);
    }
    const r = lxmert(['tokenize', '--vocab', fifo], '{"text": "hi"}\n', 20_000);
    expect(expectOneLineError(r)).toMatch(/TokenizerError: .*a named pipe/);
  });
});

describe('symbolic links and outputs', () => {
  it('convert refuses a vocab.txt that links outside the source folder (nothing written)', async () => {
    const secret = join(tmp, 'secret.txt');
    writeFileSync(secret, '[PAD]\n[UNK]\nmy-password\n');
    const dir = copyOf(TINY, ['config.json', 'model.safetensors'], fresh('vocab-link'));
    symlinkSync(secret, join(dir, 'vocab.txt'));
    const out = fresh('out');
    await refusedQuickly(
      () => convertCheckpoint(dir, out),
      /vocab\.txt: a symbolic link leading outside/,
    );
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a link inside the folder is followed (it does not leave it)', async () => {
    const dir = copyOf(TINY, ['config.json'], fresh('inner-link'));
    mkdirSync(join(dir, 'blobs'));
    writeFileSync(join(dir, 'blobs', 'w'), readFileSync(join(TINY, 'model.safetensors')));
    symlinkSync(join('blobs', 'w'), join(dir, 'model.safetensors'));
    const set = await openWeights(dir);
    expect(set.entries.size).toBeGreaterThan(10);
    await set.close();
  });

  it("a Hugging Face cache snapshot's links into ../../blobs are followed, links further out not", async () => {
    const repo = join(fresh('hf-cache'), 'models--org--name');
    const snap = join(repo, 'snapshots', 'abc123');
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    mkdirSync(snap, { recursive: true });
    writeFileSync(join(repo, 'blobs', 'cfg'), readFileSync(join(TINY, 'config.json')));
    writeFileSync(join(repo, 'blobs', 'w'), readFileSync(join(TINY, 'model.safetensors')));
    symlinkSync(join('..', '..', 'blobs', 'cfg'), join(snap, 'config.json'));
    symlinkSync(join('..', '..', 'blobs', 'w'), join(snap, 'model.safetensors'));
    const ckpt = await loadCheckpoint(snap);
    expect(ckpt.weights.size).toBeGreaterThan(10);
    const secret = join(tmp, `hf-secret-${n}`);
    writeFileSync(secret, 'x');
    symlinkSync(secret, join(snap, 'vocab.txt'));
    await refusedQuickly(() => loadCheckpoint(snap), /vocab\.txt: a symbolic link leading outside/);
  });

  it('convert refuses OUTDIR given as a symbolic link before any work', async () => {
    const real = fresh('real-out');
    mkdirSync(real);
    const link = fresh('link-out');
    symlinkSync(real, link);
    // The source does not even exist: the output is checked first.
    await refusedQuickly(
      () => convertCheckpoint(fresh('no-such-source'), link),
      /link-out-\d+: is a symbolic link/,
    );
  });

  it('CLI: infer refuses an existing folder as --output before loading anything', () => {
    const folder = fresh('out-folder');
    mkdirSync(folder);
    const r = lxmert(
      ['infer', '--model', fresh('no-model'), '--inputs', fresh('no-inputs'), '--output', folder],
      undefined,
      20_000,
    );
    expect(expectOneLineError(r)).toMatch(/--output: expected a file path .* an existing folder/);
  });

  it('writeFileAtomic never writes through a planted link (old predictable names included)', async () => {
    const dir = fresh('atomic');
    const victim = join(tmp, `victim-${n}`);
    writeFileSync(victim, 'untouched');
    mkdirSync(dir);
    // The name the old code used (`.<base>.<pid>.tmp`), planted as a link to the victim.
    symlinkSync(victim, join(dir, `.out.safetensors.${process.pid}.tmp`));
    await writeFileAtomic(join(dir, 'out.safetensors'), new Uint8Array([1, 2, 3]));
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect([...readFileSync(join(dir, 'out.safetensors'))]).toEqual([1, 2, 3]);
    const left = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
    expect(left).toEqual([`.out.safetensors.${process.pid}.tmp`]); // only the planted link
  });

  it('a converted model whose shard links outside its folder is refused', async () => {
    const out = fresh('conv');
    await convertCheckpoint(TINY, out);
    const shard = readdirSync(out).find((f) => f.endsWith('.bin'))!;
    const elsewhere = join(tmp, `moved-${n}.bin`);
    writeFileSync(elsewhere, readFileSync(join(out, shard)));
    const { rmSync } = await import('node:fs');
    rmSync(join(out, shard));
    symlinkSync(elsewhere, join(out, shard));
    await refusedQuickly(() => loadCheckpoint(out), /a symbolic link leading outside/);
  });
});
