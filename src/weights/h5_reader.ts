/**
 * Node: a Hugging Face TF checkpoint (`tf_model.h5`, Keras 2 `save_weights` HDF5, or one shard
 * of a `tf_model.h5.index.json`) opened for streaming, tensor by tensor, under PyTorch names.
 *
 * Two layouts, told apart by what the root's `layer_names` attribute names:
 * - Keras `save_weights`: `layer_names` lists top-level layers (`lxmert`, `cls` …), each a group
 *   whose `weight_names` attribute lists full variable names
 *   (`tf_lxmert_for_pre_training/lxmert/…/kernel:0`); the variable is the dataset at
 *   `<layer>/<variable name>`.
 * - HF's TF shards (`tf_model-00001-of-00002.h5`): `layer_names` lists variable names without the
 *   model's name (`lxmert/…/kernel:0`), each a dataset at that path.
 * Keras splits an attribute longer than 64,512 bytes into `name0`, `name1`, … (both read).
 *
 * Names follow HF's TF → PyTorch rule (h5_names.ts); Keras kernels are transposed while read.
 * The MLM decoder is tied to the word embeddings in TF and not stored: it is offered under its
 * PyTorch name as the word embeddings' tensor.
 *
 * Untrusted input: h5wasm sees only this one file (h5_fs.ts); external and soft links, virtual
 * datasets with sources in other files and non-numeric datasets are refused by name before any
 * data is read; every attribute and dataset read is size-checked first; a tensor is read in
 * slices of at most SLICE_BYTES so the wasm heap stays small whatever the tensor size.
 */
import type * as H5 from 'h5wasm';
import { WeightsError, formatShape } from '../errors.js';
import { openForRead } from './fs_util.js';
import { h5wasm, mountFile } from './h5_fs.js';
import { tfToPtName } from './h5_names.js';
import { DTYPE_SIZE, numel, type StDtype } from '../codec/raw_tensor.js';
import { openIndexedShards, type IndexedShards } from './reader.js';
import type { TensorEntry, WeightsFile } from './tensor_source.js';
import { readAt } from './zip_reader.js';

type H5Api = typeof H5;

/** The single-file TF weights name and the sharded index name, as HF's `TF2_WEIGHTS_NAME`s. */
export const TF_WEIGHTS_FILE = 'tf_model.h5';
export const TF_WEIGHTS_INDEX_FILE = 'tf_model.h5.index.json';

/** Largest attribute read (Keras keeps each chunk under 64,512 bytes). */
const MAX_ATTRIBUTE_BYTES = 16 * 1024 * 1024;
/** Largest read handed to HDF5 at once (rows of a tensor per slice). */
const SLICE_BYTES = 8 * 1024 * 1024;

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
/** HDF5 class numbers (H5T_class_t). */
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_CLASS_NAMES = [
  'integer',
  'float',
  'time',
  'string',
  'bitfield',
  'opaque',
  'compound',
  'reference',
  'enum',
  'variable-length',
  'array',
];

/** The deepest message of an HDF5 error stack (h5wasm throws the whole printed stack). */
export function hdf5Message(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const lines = [...text.matchAll(/#\d+: .* in [\w.]+\(\): (.*)/g)].map((m) => m[1].trim());
  return lines.length ? lines[lines.length - 1] : text.split('\n')[0];
}

/** Where the HDF5 superblock may start: 0, then 512, 1024, 2048 … (user block sizes). */
async function hasHdf5Signature(
  fh: Awaited<ReturnType<typeof openForRead>>,
  size: number,
  path: string,
): Promise<boolean> {
  for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
    const head = await readAt(fh, at, 8, path);
    if (HDF5_SIGNATURE.every((b, i) => head[i] === b)) return true;
  }
  return false;
}

function dtypeOf(meta: H5.Metadata): StDtype | undefined {
  if (meta.vlen) return undefined;
  if (meta.type === H5T_FLOAT) {
    return ({ 2: 'F16', 4: 'F32', 8: 'F64' } as Record<number, StDtype>)[meta.size];
  }
  if (meta.type === H5T_INTEGER) {
    const signed: Record<number, StDtype> = { 1: 'I8', 2: 'I16', 4: 'I32', 8: 'I64' };
    const unsigned: Record<number, StDtype> = { 1: 'U8', 2: 'U16', 4: 'U32', 8: 'U64' };
    return (meta.signed ? signed : unsigned)[meta.size];
  }
  return undefined;
}

function describeType(meta: H5.Metadata): string {
  const cls = H5T_CLASS_NAMES[meta.type] ?? `class ${meta.type}`;
  return meta.vlen ? `variable-length ${cls}` : `${meta.size}-byte ${cls}`;
}

/** Copy `rows` rows of a [rows, cols] row-major block into column `row0…` of [cols, ld]. */
function transposeInto(
  src: Uint8Array,
  rows: number,
  cols: number,
  dst: Uint8Array,
  ld: number,
  row0: number,
  elem: number,
): void {
  const view = (b: Uint8Array) =>
    elem === 4
      ? new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4)
      : elem === 2
        ? new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2)
        : elem === 8
          ? new BigUint64Array(b.buffer, b.byteOffset, b.byteLength / 8)
          : b;
  const s = view(src) as Uint32Array;
  const d = view(dst) as Uint32Array;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) d[c * ld + row0 + r] = s[base + c];
  }
}

/** An open HDF5 file with the checks every path and read goes through. */
class H5Source {
  private readonly safe = new Set<string>(['/']);

  constructor(
    private readonly mod: H5Api,
    readonly file: H5.File,
    readonly source: string,
  ) {}

  private get m() {
    return this.mod.Module;
  }

  /**
   * Make sure every level of `path` (absolute) is a hard link inside this file: an external
   * link would make HDF5 open another file, a soft link could lead through one.
   */
  checkPath(path: string, what: string): void {
    const parts = path.split('/').filter(Boolean);
    let prefix = '';
    for (const p of parts) {
      prefix += `/${p}`;
      if (this.safe.has(prefix)) continue;
      const ext = this.m.get_external_link(this.file.file_id, prefix) as {
        filename?: string;
        obj_path?: string;
      };
      if (ext.filename !== undefined) {
        throw new WeightsError(
          `${what}: '${prefix}' is an external link to '${ext.obj_path}' in file ` +
            `'${ext.filename}'; refused (weights are only read from the file itself)`,
          this.source,
        );
      }
      const soft = this.m.get_symbolic_link(this.file.file_id, prefix);
      if (soft !== null) {
        throw new WeightsError(
          `${what}: '${prefix}' is a soft link (to '${String(soft)}'); a Keras weights file has none`,
          this.source,
        );
      }
      if (this.m.get_type(this.file.file_id, prefix) < 0) {
        throw new WeightsError(`${what}: '${prefix}' does not exist`, this.source);
      }
      this.safe.add(prefix);
    }
  }

  isGroup(path: string): boolean {
    return this.m.get_type(this.file.file_id, path) === this.m.H5G_GROUP;
  }

  isDataset(path: string): boolean {
    return this.m.get_type(this.file.file_id, path) === this.m.H5G_DATASET;
  }

  /** A string-list attribute, or its Keras chunks `name0`, `name1` …; undefined when absent. */
  stringList(path: string, name: string): string[] | undefined {
    const names = new Set(this.m.get_attribute_names(this.file.file_id, path));
    const read = (attr: string): string[] => {
      const where = `${path === '/' ? '' : path} attribute '${attr}'`;
      const meta = this.m.get_attribute_metadata(this.file.file_id, path, attr);
      const bytes = meta.size * meta.total_size;
      if (meta.type !== 3) {
        throw new WeightsError(
          `${where} holds ${describeType(meta)} values, expected strings`,
          this.source,
        );
      }
      if (!(bytes <= MAX_ATTRIBUTE_BYTES)) {
        throw new WeightsError(
          `${where} is ${bytes} bytes, more than ${MAX_ATTRIBUTE_BYTES}`,
          this.source,
        );
      }
      const value = new this.mod.Group(this.file.file_id, path).get_attribute(attr, false);
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
        throw new WeightsError(`${where} is not a list of strings`, this.source);
      }
      return list as string[];
    };
    if (names.has(name)) return read(name);
    if (!names.has(`${name}0`)) return undefined;
    const out: string[] = [];
    for (let i = 0; names.has(`${name}${i}`); i++) out.push(...read(`${name}${i}`));
    return out;
  }

  /** Dtype and shape of a dataset, after refusing what a weights file never holds. */
  describe(path: string, tfName: string): { dtype: StDtype; shape: number[] } {
    const meta = new this.mod.Dataset(this.file.file_id, path).metadata;
    const outside = (meta.virtual_sources ?? []).filter((s) => s.file_name !== '.');
    if (outside.length) {
      throw new WeightsError(
        `variable '${tfName}' is a virtual dataset reading from ${outside
          .map((s) => `'${s.file_name}'`)
          .join(', ')}; refused (weights are only read from the file itself)`,
        this.source,
      );
    }
    const dtype = dtypeOf(meta);
    if (!dtype) {
      throw new WeightsError(
        `variable '${tfName}' holds ${describeType(meta)} values, expected a number type`,
        this.source,
      );
    }
    if (!meta.shape) {
      throw new WeightsError(`variable '${tfName}' has no shape (null dataspace)`, this.source);
    }
    if (numel(meta.shape) !== meta.total_size) {
      throw new WeightsError(
        `variable '${tfName}': shape ${formatShape(meta.shape)} and ${meta.total_size} elements disagree`,
        this.source,
      );
    }
    return { dtype, shape: meta.shape };
  }

  /** Rows [r0, r1) of a dataset (all of it for rank 0 or 1), little-endian bytes. */
  readRows(path: string, shape: number[], elem: number, r0: number, r1: number): Uint8Array {
    const rowElems = shape.length > 1 ? numel(shape.slice(1)) : 1;
    const whole = shape.length === 0 || (r0 === 0 && r1 === shape[0]);
    const nbytes = whole ? numel(shape) * elem : (r1 - r0) * rowElems * elem;
    const ptr = nbytes > 0 ? this.m._malloc(nbytes) : 0;
    if (nbytes > 0 && !ptr)
      throw new WeightsError(`cannot allocate ${nbytes} bytes in wasm memory`, this.source);
    try {
      if (nbytes === 0) return new Uint8Array(0);
      const count = whole ? null : [BigInt(r1 - r0), ...shape.slice(1).map(BigInt)];
      const offset = whole ? null : [BigInt(r0), ...shape.slice(1).map(() => 0n)];
      const strides = whole ? null : shape.map(() => 1n);
      const status = this.m.get_dataset_data(
        this.file.file_id,
        path,
        count,
        offset,
        strides,
        BigInt(ptr),
      );
      if (status < 0) throw new Error(`H5Dread returned ${status}`);
      return this.m.HEAPU8.slice(ptr, ptr + nbytes);
    } finally {
      if (ptr) this.m._free(ptr);
    }
  }
}

export interface TfVariable {
  /** The TF name as stored (`tf_lxmert_model/lxmert/…/kernel:0`). */
  tfName: string;
  /** Dataset path in the file. */
  path: string;
}

/** The variables a Keras `save_weights` file or an HF TF shard lists, with their datasets. */
function listVariables(h5: H5Source): TfVariable[] {
  const layers = h5.stringList('/', 'layer_names');
  if (layers === undefined) {
    throw new WeightsError(
      "not a Keras weights file: no 'layer_names' attribute at the root " +
        '(expected a tf_model.h5 written by save_pretrained / save_weights)',
      h5.source,
    );
  }
  const out: TfVariable[] = [];
  const checkName = (n: string, what: string) => {
    const parts = n.split('/');
    if (!n || n.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) {
      throw new WeightsError(`${what} '${n}' is not a relative HDF5 path`, h5.source);
    }
  };
  for (const layer of layers) {
    checkName(layer, 'layer_names entry');
    const lpath = `/${layer}`;
    h5.checkPath(lpath, `layer '${layer}'`);
    if (h5.isDataset(lpath)) {
      // HF TF shard: the entry is the variable, without the model's name in front.
      out.push({ tfName: `model/${layer}`, path: lpath });
      continue;
    }
    if (!h5.isGroup(lpath)) {
      throw new WeightsError(`layer '${layer}' is neither a group nor a dataset`, h5.source);
    }
    const names = h5.stringList(lpath, 'weight_names');
    if (names === undefined) {
      throw new WeightsError(
        `not a Keras weights file: layer group '${layer}' has no 'weight_names' attribute`,
        h5.source,
      );
    }
    for (const n of names) {
      checkName(n, `weight_names entry of '${layer}'`);
      const path = `${lpath}/${n}`;
      h5.checkPath(path, `variable '${n}'`);
      if (!h5.isDataset(path)) {
        throw new WeightsError(`variable '${n}' (at '${path}') is not a dataset`, h5.source);
      }
      out.push({ tfName: n, path });
    }
  }
  return out;
}

/** Offer the MLM decoder (tied, not stored in TF) as the word embeddings' tensor. */
function addTiedDecoder(entries: Map<string, TensorEntry>): void {
  const word = entries.get('lxmert.embeddings.word_embeddings.weight');
  if (word && entries.has('cls.predictions.bias') && !entries.has('cls.predictions.decoder.weight'))
    entries.set('cls.predictions.decoder.weight', {
      ...word,
      name: 'cls.predictions.decoder.weight',
    });
}

/** Open one HDF5 weights file; `tied` adds the tied decoder (off for shards, done once after). */
async function openH5(path: string, tied: boolean, root?: string): Promise<WeightsFile> {
  const fh = await openForRead(path, { root });
  let close = async () => {
    await fh.close();
  };
  try {
    const st = await fh.stat();
    const size = st.size;
    if (!(await hasHdf5Signature(fh, size, path))) {
      const head = new TextDecoder().decode(await readAt(fh, 0, Math.min(size, 64), path));
      throw new WeightsError(
        head.startsWith('version https://git-lfs')
          ? 'a git-lfs pointer, not the weights: fetch the file with `git lfs pull`'
          : `not an HDF5 file (${size} bytes, no HDF5 signature)`,
        path,
      );
    }
    const mod = await h5wasm();
    const mount = mountFile(mod, fh.fd, size, st.mtimeMs);
    let file: H5.File;
    try {
      file = new mod.File(mount.path, 'r');
    } catch (e) {
      mount.unmount();
      throw new WeightsError(`not a readable HDF5 file (${hdf5Message(e)})`, path);
    }
    close = async () => {
      try {
        file.close();
      } finally {
        mount.unmount();
        await fh.close();
      }
    };
    const h5 = new H5Source(mod, file, path);
    const entries = new Map<string, TensorEntry>();
    let vars: TfVariable[];
    try {
      vars = listVariables(h5);
    } catch (e) {
      if (e instanceof WeightsError) throw e;
      throw new WeightsError(`cannot read the file's layout (${hdf5Message(e)})`, path);
    }
    for (const v of vars) {
      const { name, transpose } = tfToPtName(v.tfName);
      let d: { dtype: StDtype; shape: number[] };
      try {
        d = h5.describe(v.path, v.tfName);
      } catch (e) {
        if (e instanceof WeightsError) throw e;
        throw new WeightsError(`variable '${v.tfName}': ${hdf5Message(e)}`, path);
      }
      if (transpose && d.shape.length !== 2) {
        throw new WeightsError(
          `variable '${v.tfName}' is a kernel of shape ${formatShape(d.shape)}, expected 2 dimensions`,
          path,
        );
      }
      if (entries.has(name)) {
        throw new WeightsError(`two variables map to the PyTorch name '${name}'`, path);
      }
      const shape = transpose ? [d.shape[1], d.shape[0]] : d.shape;
      const elem = DTYPE_SIZE[d.dtype];
      entries.set(name, {
        name,
        dtype: d.dtype,
        shape,
        storageId: `${path}:${v.path}`,
        read: async () => {
          try {
            return readTensor(h5, v.path, d.shape, elem, transpose);
          } catch (e) {
            if (e instanceof WeightsError) throw e;
            throw new WeightsError(`variable '${v.tfName}': cannot read (${hdf5Message(e)})`, path);
          }
        },
      });
    }
    if (tied) addTiedDecoder(entries);
    return { path, format: 'tf-h5', entries, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Read a whole tensor in row slices of at most SLICE_BYTES, transposing a kernel on the way. */
function readTensor(
  h5: H5Source,
  path: string,
  shape: number[],
  elem: number,
  transpose: boolean,
): Uint8Array {
  if (shape.length < 2 && !transpose) return h5.readRows(path, shape, elem, 0, shape[0] ?? 1);
  const rows = shape[0];
  const rowBytes = (numel(shape) / Math.max(rows, 1)) * elem;
  const step = Math.max(1, Math.floor(SLICE_BYTES / Math.max(rowBytes, 1)));
  if (!transpose && step >= rows) return h5.readRows(path, shape, elem, 0, rows);
  const out = new Uint8Array(numel(shape) * elem);
  for (let r0 = 0; r0 < rows; r0 += step) {
    const r1 = Math.min(rows, r0 + step);
    const part = h5.readRows(path, shape, elem, r0, r1);
    if (transpose) transposeInto(part, r1 - r0, shape[1], out, rows, r0, elem);
    else out.set(part, r0 * rowBytes);
  }
  return out;
}

/**
 * Open a `tf_model.h5` (Keras layout or one HF shard). `root`: a folder the file must stay
 * inside (symbolic links resolved).
 */
export function openTfH5(path: string, root?: string): Promise<WeightsFile> {
  return openH5(path, true, root);
}

/**
 * Open the shards a `tf_model.h5.index.json` names (HF's `tf_shard_checkpoint`: its weight_map
 * keys are full TF names, its values shard file names in the same folder).
 */
export async function openTfH5Index(dir: string, indexFile: string): Promise<IndexedShards> {
  const set = await openIndexedShards(
    dir,
    indexFile,
    (shard) => openH5(shard, false, dir),
    (tf) => tfToPtName(tf).name,
  );
  try {
    addTiedDecoder(set.entries);
  } catch (e) {
    await set.close();
    throw e;
  }
  return set;
}
