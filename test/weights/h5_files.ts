/**
 * HDF5 files for the TF-checkpoint tests, written with h5wasm (in its in-memory file system,
 * then copied to the host): Keras `save_weights` layouts and HF TF shards built from the
 * lxmert-tiny-tf fixture's variables, with whatever defect a test needs.
 */
import { closeSync, fstatSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as H5 from 'h5wasm';
import { h5wasm, mountFile } from '../../src/weights/h5_fs.js';
import { FIXTURES } from './helpers.js';

type H5Api = typeof H5;

export interface Variable {
  /** Full TF name, `tf_lxmert_model/lxmert/…/kernel:0`. */
  name: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** The variables of a fixture's tf_model.h5 by top-level layer, in file order. */
export async function fixtureVariables(model: string): Promise<Map<string, Variable[]>> {
  const mod = await h5wasm();
  const path = join(FIXTURES, model, 'tf_model.h5');
  const fd = openSync(path, 'r');
  const m = mountFile(mod, fd, fstatSync(fd).size);
  const f = new mod.File(m.path, 'r');
  try {
    const out = new Map<string, Variable[]>();
    for (const layer of f.get_attribute('layer_names', false) as string[]) {
      const g = f.get(layer) as H5.Group;
      const vars = (g.get_attribute('weight_names', false) as string[]).map((name) => {
        const d = g.get(name) as H5.Dataset;
        return { name, shape: d.shape!, data: d.value as Float32Array };
      });
      out.set(layer, vars);
    }
    return out;
  } finally {
    f.close();
    m.unmount();
    closeSync(fd);
  }
}

let written = 0;

/** Build an HDF5 file with h5wasm and write it to `hostPath`. */
export async function writeH5(
  hostPath: string,
  build: (f: H5.File, mod: H5Api) => void,
): Promise<void> {
  const mod = await h5wasm();
  const fs = mod.Module.FS as unknown as {
    readFile(p: string): Uint8Array;
    unlink(p: string): void;
  };
  const mem = `/h5-write-${++written}.h5`;
  const f = new mod.File(mem, 'w');
  try {
    build(f, mod);
  } finally {
    f.close();
  }
  writeFileSync(hostPath, fs.readFile(mem));
  fs.unlink(mem);
}

/** Create `path`'s parent groups (h5wasm does not). */
export function ensureGroups(f: H5.File, path: string): void {
  const parts = path.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const p = parts.slice(0, i).join('/');
    if (!f.get(p)) f.create_group(p);
  }
}

function dataset(f: H5.File, path: string, v: Variable): void {
  ensureGroups(f, path);
  f.create_dataset({
    name: path,
    data: v.data,
    shape: v.shape,
    dtype: v.data instanceof Int32Array ? '<i' : '<f',
  });
}

/** Split a string list as Keras does when it is long: `name0`, `name1`, … of `chunk` items. */
function stringAttribute(g: H5.Group, name: string, items: string[], chunk?: number): void {
  if (!chunk) {
    g.create_attribute(name, items);
    return;
  }
  for (let i = 0; i * chunk < items.length; i++)
    g.create_attribute(`${name}${i}`, items.slice(i * chunk, (i + 1) * chunk));
}

export interface KerasOptions {
  /** Split `layer_names` / `weight_names` into chunks of this many names. */
  chunk?: number;
  /** Leave the root `layer_names` out (then it is not a Keras weights file). */
  noLayerNames?: boolean;
}

/** A Keras `save_weights` file: root layer_names; one group per layer with weight_names. */
export async function writeKeras(
  hostPath: string,
  layers: Map<string, Variable[]>,
  opts: KerasOptions = {},
  extra?: (f: H5.File, mod: H5Api) => void,
): Promise<void> {
  await writeH5(hostPath, (f, mod) => {
    if (!opts.noLayerNames) stringAttribute(f, 'layer_names', [...layers.keys()], opts.chunk);
    f.create_attribute('backend', 'tensorflow');
    f.create_attribute('keras_version', '2.3.0');
    for (const [layer, vars] of layers) {
      const g = f.create_group(layer);
      stringAttribute(
        g,
        'weight_names',
        vars.map((v) => v.name),
        opts.chunk,
      );
      for (const v of vars) dataset(f, `${layer}/${v.name}`, v);
    }
    extra?.(f, mod);
  });
}

/**
 * HF's sharded TF checkpoint (`tf_shard_checkpoint`): shard files with each variable at its
 * name without the model's, root layer_names listing them, and tf_model.h5.index.json.
 */
export async function writeTfShards(
  dir: string,
  layers: Map<string, Variable[]>,
  shards: number,
  chunk?: number,
): Promise<void> {
  const all = [...layers.values()].flat();
  const per = Math.ceil(all.length / shards);
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const file = `tf_model-0000${s + 1}-of-0000${shards}.h5`;
    const part = all.slice(s * per, (s + 1) * per);
    await writeH5(join(dir, file), (f) => {
      const names = part.map((v) => v.name.split('/').slice(1).join('/'));
      part.forEach((v, i) => dataset(f, names[i], v));
      stringAttribute(f, 'layer_names', names, chunk);
    });
    for (const v of part) weightMap[v.name] = file;
  }
  writeFileSync(
    join(dir, 'tf_model.h5.index.json'),
    JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }),
  );
}
