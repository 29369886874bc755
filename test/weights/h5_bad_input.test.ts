/**
 * Bad TF checkpoints: each a WeightsError naming the file and the problem, from convert (which
 * then leaves no output behind) and from the reader; files that point outside themselves are
 * refused and the files they name are never read. The bad files are made here with h5wasm from
 * the lxmert-tiny-tf-model fixture, except three h5wasm cannot write (h5-refused/, made by
 * scripts/make-h5-refused.py).
 */
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LxmertError, WeightsError } from '../../src/errors.js';
import { loadCheckpoint } from '../../src/weights/checkpoint.js';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { h5wasm } from '../../src/weights/h5_fs.js';
import { openTfH5 } from '../../src/weights/h5_reader.js';
import { fixtureVariables, writeH5, writeKeras, type Variable } from './h5_files.js';
import { FIXTURES, listDir, tempDir } from './helpers.js';

const tmp = tempDir('h5-bad');
const MODEL = join(FIXTURES, 'lxmert-tiny-tf-model');
const REFUSED = join(FIXTURES, 'h5-refused');
const PREFIX = 'tf_lxmert_model/lxmert/';
let layers: Map<string, Variable[]>;
let count = 0;

/** This process's descriptors open on .h5 files (Linux). */
function openH5Descriptors(): string[] {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((target) => target.endsWith('.h5'));
}

beforeAll(async () => {
  layers = await fixtureVariables('lxmert-tiny-tf-model');
});

/** The fixture's variables with `edit` applied to the `lxmert` layer's list. */
function edited(edit: (vars: Variable[]) => Variable[]): Map<string, Variable[]> {
  return new Map([['lxmert', edit([...layers.get('lxmert')!])]]);
}

/** A folder with the fixture's config.json and `write`'s tf_model.h5. */
async function folder(write: (path: string) => Promise<void> | void): Promise<string> {
  const dir = join(tmp, `src-${count++}`);
  mkdirSync(dir);
  copyFileSync(join(MODEL, 'config.json'), join(dir, 'config.json'));
  await write(join(dir, 'tf_model.h5'));
  return dir;
}

/** convert and loadCheckpoint both fail with `error`, and convert leaves nothing behind. */
async function expectRefused(dir: string, error: RegExp): Promise<void> {
  const parent = join(tmp, `parent-${count++}`);
  mkdirSync(parent);
  const err = await convertCheckpoint(dir, join(parent, 'out')).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WeightsError);
  expect((err as Error).message).toMatch(error);
  expect((err as Error).message).toContain(join(dir, 'tf_model.h5'));
  expect(listDir(parent)).toEqual([]);
  await expect(loadCheckpoint(dir)).rejects.toThrow(error);
}

describe('bad tf_model.h5', () => {
  it('not an HDF5 file (and a git-lfs pointer says so)', async () => {
    await expectRefused(
      await folder((p) => writeFileSync(p, 'PK\u0003\u0004 not hdf5'.repeat(100))),
      /not an HDF5 file \(1300 bytes, no HDF5 signature\)/,
    );
    const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 1\n';
    await expectRefused(
      await folder((p) => writeFileSync(p, pointer)),
      /git-lfs pointer, not the weights/,
    );
  });

  it('an HDF5 file that is not a Keras weights file', async () => {
    const dir = await folder((p) =>
      writeH5(p, (f) => {
        f.create_dataset({ name: 'data', data: new Float32Array(4) });
      }),
    );
    await expectRefused(dir, /not a Keras weights file: no 'layer_names' attribute at the root/);
    const noWeightNames = await folder((p) =>
      writeH5(p, (f) => {
        f.create_attribute('layer_names', ['lxmert']);
        f.create_group('lxmert');
      }),
    );
    await expectRefused(noWeightNames, /layer group 'lxmert' has no 'weight_names' attribute/);
  });

  it('a missing variable', async () => {
    const drop = `${PREFIX}encoder/x_layers_._1/visn_output/dense/kernel:0`;
    const dir = await folder((p) =>
      writeKeras(
        p,
        edited((v) => v.filter((x) => x.name !== drop)),
      ),
    );
    await expectRefused(
      dir,
      /weights do not match the LxmertModel config; 1 missing: encoder\.x_layers\.1\.visn_output\.dense\.weight$/,
    );
  });

  it('an extra variable', async () => {
    const extra: Variable = {
      name: `${PREFIX}encoder/layer_._7/output/dense/kernel:0`,
      shape: [128, 64],
      data: new Float32Array(128 * 64),
    };
    const dir = await folder((p) =>
      writeKeras(
        p,
        edited((v) => [...v, extra]),
      ),
    );
    await expectRefused(
      dir,
      /1 variable\(s\) that LxmertModel with this config does not have: lxmert\.encoder\.layer\.7\.output\.dense\.weight \[64, 128\]/,
    );
  });

  it('a kernel with the wrong shape (saved [out, in], as PyTorch lays it out)', async () => {
    const name = `${PREFIX}encoder/layer_._1/intermediate/dense/kernel:0`;
    const dir = await folder((p) =>
      writeKeras(
        p,
        edited((v) => v.map((x) => (x.name === name ? { ...x, shape: [128, 64] } : x))),
      ),
    );
    await expectRefused(
      dir,
      /1 mis-shaped: encoder\.layer\.1\.intermediate\.dense\.weight \[64, 128\] \(config wants \[128, 64\]\)/,
    );
  });

  it('a truncated file', async () => {
    const bytes = readFileSync(join(MODEL, 'tf_model.h5'));
    for (const keep of [0.5, 0.999]) {
      const dir = await folder((p) =>
        writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length * keep))),
      );
      await expectRefused(dir, /not a readable HDF5 file \(truncated file: eof = \d+/);
    }
  });

  it('a non-float dataset: integers, and strings', async () => {
    const name = `${PREFIX}pooler/dense/bias:0`;
    const ints = await folder((p) =>
      writeKeras(
        p,
        edited((v) => v.map((x) => (x.name === name ? { ...x, data: new Int32Array(64) } : x))),
      ),
    );
    await expectRefused(
      ints,
      /1 weight\(s\) are not floating point: pooler\.dense\.bias \(I32 \[64\]\)/,
    );
    const strings = await folder((p) =>
      writeKeras(
        p,
        edited((v) => v.filter((x) => x.name !== name)),
        {},
        (f) => {
          f.create_dataset({ name: `lxmert/${name}`, data: ['a', 'b'] });
          const g = f.get('lxmert') as import('h5wasm').Group;
          const names = g.get_attribute('weight_names', false) as string[];
          g.delete_attribute('weight_names');
          g.create_attribute('weight_names', [...names, name]);
        },
      ),
    );
    await expectRefused(
      strings,
      /variable 'tf_lxmert_model\/lxmert\/pooler\/dense\/bias:0' holds variable-length string values, expected a number type/,
    );
  });

  it('a soft link is refused', async () => {
    const name = `${PREFIX}pooler/dense/bias:0`;
    const dir = await folder((p) =>
      writeKeras(
        p,
        edited((v) => v.filter((x) => x.name !== name)),
        {},
        (f) => {
          f.create_dataset({ name: 'elsewhere', data: new Float32Array(64) });
          (f.get(`lxmert/${PREFIX}pooler/dense`) as import('h5wasm').Group).create_soft_link(
            '/elsewhere',
            'bias:0',
          );
          const g = f.get('lxmert') as import('h5wasm').Group;
          const names = g.get_attribute('weight_names', false) as string[];
          g.delete_attribute('weight_names');
          g.create_attribute('weight_names', [...names, name]);
        },
      ),
    );
    await expectRefused(dir, /is a soft link \(to '\/elsewhere'\)/);
  });
});

describe('files that point outside themselves are refused; the files named are not read', () => {
  /** A folder with the file and, beside it, the file it names (which must stay unread). */
  async function withTarget(fixture: string, target: string): Promise<string> {
    const dir = await folder((p) => copyFileSync(join(REFUSED, fixture), p));
    await writeH5(join(dir, target), (f) => {
      f.create_dataset({ name: 'data', data: new Float32Array(64).fill(7) });
    });
    return dir;
  }

  it('an external link (from the last level)', async () => {
    const dir = await folder((p) => copyFileSync(join(REFUSED, 'external_link.h5'), p));
    await expectRefused(
      dir,
      /variable '.*bias:0': '\/lxmert\/.*\/bias:0' is an external link to '\/data' in file '\/etc\/secrets\.h5'; refused/,
    );
  });

  it('an external link half-way (a group in another file)', async () => {
    const dir = await folder(async (p) => {
      await writeKeras(
        p,
        edited((v) => v.filter((x) => !x.name.startsWith(`${PREFIX}pooler/`))),
        {},
        (f) => {
          (f.get(`lxmert/${PREFIX.slice(0, -1)}`) as import('h5wasm').Group).create_external_link(
            'other.h5',
            '/pooler',
            'pooler',
          );
          const g = f.get('lxmert') as import('h5wasm').Group;
          const names = g.get_attribute('weight_names', false) as string[];
          g.delete_attribute('weight_names');
          g.create_attribute('weight_names', [...names, `${PREFIX}pooler/dense/bias:0`]);
        },
      );
    });
    await writeKeras(join(dir, 'other.h5'), new Map([['pooler', []]]));
    await expectRefused(
      dir,
      /'\/lxmert\/tf_lxmert_model\/lxmert\/pooler' is an external link to '\/pooler' in file 'other\.h5'; refused/,
    );
  });

  it('a virtual dataset whose source is another file', async () => {
    const dir = await withTarget('virtual.h5', 'secrets.h5');
    await expectRefused(
      dir,
      /variable 'tf_lxmert_model\/lxmert\/pooler\/dense\/bias:0' is a virtual dataset reading from 'secrets\.h5'; refused/,
    );
  });

  it('a dataset with external raw storage cannot be read (HDF5 sees only this file)', async () => {
    const dir = await folder((p) => copyFileSync(join(REFUSED, 'external_storage.h5'), p));
    writeFileSync(join(dir, 'secrets.bin'), new Uint8Array(new Float32Array(64).fill(7).buffer));
    const f = await openTfH5(join(dir, 'tf_model.h5'));
    try {
      const e = f.entries.get('lxmert.pooler.dense.bias')!;
      expect(e.shape).toEqual([64]);
      const err = await e.read().then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(err).toBeInstanceOf(WeightsError);
      expect((err as Error).message).toMatch(
        /bias:0': cannot read \(unable to open external raw data file\)/,
      );
    } finally {
      await f.close();
    }
  });
});

describe('after every refusal', () => {
  it('the HDF5 library still reads a good file', async () => {
    const ck = await loadCheckpoint(MODEL);
    expect(ck.architecture).toBe('LxmertModel');
    expect(ck.weights.size).toBeGreaterThan(100);
    expect(ck).not.toBeInstanceOf(LxmertError);
  });
  it('no .h5 file is left open, no mount is left in h5wasm', async () => {
    expect(openH5Descriptors()).toEqual([]);
    const fs = (await h5wasm()).Module.FS as unknown as { readdir(p: string): string[] };
    expect(fs.readdir('/').filter((d) => d.startsWith('lxmert-h5-'))).toEqual([]);
  });
});
