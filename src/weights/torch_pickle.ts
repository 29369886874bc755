/**
 * The allow-list that turns a `torch.save(state_dict)` pickle into tensor *references* (storage
 * key, dtype, offset, shape, stride) without running anything.
 *
 * Accepted globals (what torch.save writes for a state_dict of CPU or CUDA tensors):
 * `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`, `_rebuild_tensor`,
 * `_rebuild_parameter`, `_rebuild_parameter_with_state` and the typed storage classes
 * `torch.{Float,Half,BFloat16,Double,Long,Int,Short,Char,Byte,Bool}Storage`. Any other global
 * (`os.system`, `builtins.exec`, `torch.storage._load_from_bytes`, …) stops the parse with a
 * WeightsError that names it. Browser-safe.
 */
import { WeightsError, formatShape } from '../errors.js';
import { DTYPE_SIZE, numel, type StDtype } from '../codec/raw_tensor.js';
import { PyDict, PyGlobal, PyTuple, unpickle, type PyOpaque, type PyValue } from './pickle.js';

/** A storage as the pickle references it; bytes live elsewhere (zip entry or legacy blob). */
export interface TorchStorageRef extends PyOpaque {
  readonly pyType: 'storage';
  /** Storage key: zip entry name under `data/`, or the legacy root key. */
  key: string;
  dtype: StDtype;
  /** Elements in the (root) storage. */
  numel: number;
  /** Legacy format only: this storage is a view `[offset, offset + numel)` of root `key`. */
  view?: { offset: number; numel: number };
}

/** A tensor as the pickle describes it. */
export interface TorchTensorRef extends PyOpaque {
  readonly pyType: 'tensor';
  storage: TorchStorageRef;
  /** In elements. */
  offset: number;
  shape: number[];
  stride: number[];
}

class StorageType implements PyOpaque {
  readonly pyType = 'storage-type';
  constructor(
    readonly name: string,
    readonly dtype: StDtype,
  ) {}
}

const STORAGE_DTYPES: Readonly<Record<string, StDtype>> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

const REBUILD = new Set([
  '_rebuild_tensor_v2',
  '_rebuild_tensor',
  '_rebuild_parameter',
  '_rebuild_parameter_with_state',
]);

function isTensor(v: PyValue): v is TorchTensorRef {
  return typeof v === 'object' && v !== null && (v as PyOpaque).pyType === 'tensor';
}

/** Turns a persistent id's tuple items into a storage reference (format-specific). */
export type PersistentLoader = (
  items: PyValue[],
  storageDtype: (v: PyValue) => StDtype,
) => TorchStorageRef;

function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (v instanceof PyTuple) return 'a tuple';
  if (v instanceof PyDict) return 'a dict';
  if (v instanceof PyGlobal) return v.qualname;
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return `a ${(v as PyOpaque).pyType}`;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function intList(v: PyValue, what: string, source: string): number[] {
  if (
    !(v instanceof PyTuple) ||
    v.items.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 0)
  ) {
    throw new WeightsError(
      `pickle: tensor ${what} is ${describe(v)}, not a tuple of non-negative integers`,
      source,
    );
  }
  return v.items as number[];
}

/**
 * Parse a torch.save pickle (bytes from `start`) with the allow-list; storages come from
 * `loadStorage`. Returns the unpickled root and where the pickle ended.
 */
export function unpickleTorch(
  buf: Uint8Array,
  source: string,
  loadStorage: PersistentLoader,
  start = 0,
): { value: PyValue; end: number } {
  const storageDtype = (v: PyValue): StDtype => {
    if (v instanceof StorageType) return v.dtype;
    throw new WeightsError(
      `pickle: persistent id names ${describe(v)}, not a torch storage type`,
      source,
    );
  };
  return unpickle(
    buf,
    {
      findGlobal(module, name) {
        const q = `${module}.${name}`;
        if (q === 'collections.OrderedDict') return new PyGlobal(module, name);
        if (module === 'torch._utils' && REBUILD.has(name)) return new PyGlobal(module, name);
        if ((module === 'torch' || module === 'torch.cuda') && /^\w+Storage$/.test(name)) {
          const dtype = STORAGE_DTYPES[name];
          if (!dtype)
            throw new WeightsError(`pickle: storage type '${q}' is not supported`, source);
          return new StorageType(q, dtype);
        }
        throw new WeightsError(
          `pickle global '${q}' is not allowed (only the tensors, storages and OrderedDict that ` +
            'torch.save writes are); refusing to load this file, nothing in it was run',
          source,
        );
      },
      call(callable, args) {
        if (!(callable instanceof PyGlobal)) {
          throw new WeightsError(`pickle: cannot call ${describe(callable)}`, source);
        }
        if (callable.qualname === 'collections.OrderedDict') {
          const d = new PyDict(true);
          if (args.length === 0) return d;
          throw new WeightsError(
            'pickle: OrderedDict(...) with arguments is not supported',
            source,
          );
        }
        const [first, ...rest] = args;
        if (
          callable.name === '_rebuild_parameter' ||
          callable.name === '_rebuild_parameter_with_state'
        ) {
          if (!isTensor(first)) {
            throw new WeightsError(
              `pickle: ${callable.name} of ${describe(first)}, not a tensor`,
              source,
            );
          }
          return first;
        }
        // _rebuild_tensor(_v2)(storage, storage_offset, size, stride, ...)
        const st = first as TorchStorageRef;
        if (typeof st !== 'object' || st === null || (st as PyOpaque).pyType !== 'storage') {
          throw new WeightsError(
            `pickle: ${callable.name} of ${describe(first)}, not a storage`,
            source,
          );
        }
        const [offset, size, stride] = rest;
        if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
          throw new WeightsError(
            `pickle: tensor storage offset ${describe(offset)} is not valid`,
            source,
          );
        }
        const shape = intList(size, 'size', source);
        const strides = intList(stride, 'stride', source);
        if (strides.length !== shape.length) {
          throw new WeightsError(
            `pickle: tensor size ${formatShape(shape)} and stride ${formatShape(strides)} differ in rank`,
            source,
          );
        }
        const t: TorchTensorRef = { pyType: 'tensor', storage: st, offset, shape, stride: strides };
        return t;
      },
      build(obj, state) {
        // OrderedDict state carries `_metadata` (module versions): not needed, ignored.
        if (
          obj instanceof PyDict &&
          (state === null || state instanceof PyDict || state instanceof PyTuple)
        ) {
          return obj;
        }
        throw new WeightsError(`pickle: BUILD on ${describe(obj)} is not supported`, source);
      },
      persistentLoad(pid) {
        if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage') {
          throw new WeightsError(`pickle: persistent id ${describe(pid)} is not a storage`, source);
        }
        return loadStorage(pid.items, storageDtype);
      },
    },
    source,
    start,
  );
}

/** Check a persistent-id field is a non-negative integer. */
export function pidInt(v: PyValue, what: string, source: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new WeightsError(
      `pickle: storage ${what} ${describe(v)} is not a non-negative integer`,
      source,
    );
  }
  return v;
}

/** A storage key as written: a string (zip, legacy) or an int (very old legacy files). */
export function pidKey(v: PyValue, source: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  throw new WeightsError(`pickle: storage key ${describe(v)} is not a string`, source);
}

/**
 * The tensors of an unpickled state_dict, by name. The root must be a dict; a dict holding the
 * real one under `state_dict` or `model` (common training-checkpoint wrappers) is unwrapped.
 * Non-tensor entries are skipped. Each tensor's elements are checked to lie inside its storage.
 */
export function stateDictTensors(root: PyValue, source: string): Map<string, TorchTensorRef> {
  if (!(root instanceof PyDict)) {
    throw new WeightsError(
      `pickle holds ${describe(root)}, not a state_dict (a dict of tensors)`,
      source,
    );
  }
  let dict = root;
  const hasTensor = (d: PyDict) => [...d.map.values()].some(isTensor);
  if (!hasTensor(dict)) {
    for (const k of ['state_dict', 'model']) {
      const inner = dict.map.get(k);
      if (inner instanceof PyDict && hasTensor(inner)) {
        dict = inner;
        break;
      }
    }
  }
  const out = new Map<string, TorchTensorRef>();
  for (const [k, v] of dict.map) {
    if (typeof k !== 'string' || !isTensor(v)) continue;
    const where = `${source}: tensor '${k}'`;
    const avail = v.storage.view ? v.storage.view.numel : v.storage.numel;
    const n = numel(v.shape);
    const last =
      n === 0 ? 0 : v.offset + v.shape.reduce((a, d, i) => a + (d - 1) * v.stride[i], 0) + 1;
    if (n > 0 && last > avail) {
      throw new WeightsError(
        `${formatShape(v.shape)} at storage offset ${v.offset} needs ${last} elements, the storage has ${avail}`,
        where,
      );
    }
    out.set(k, v);
  }
  if (out.size === 0) throw new WeightsError('the pickled dict holds no tensors', source);
  return out;
}

/** True when the tensor's elements are contiguous (row-major) in its storage. */
export function isContiguous(t: TorchTensorRef): boolean {
  let expect = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    if (t.shape[i] !== 1 && t.stride[i] !== expect) return numel(t.shape) === 0;
    expect *= t.shape[i];
  }
  return true;
}

/**
 * Copy a strided view out of the storage bytes that hold elements
 * `[t.offset, t.offset + span)` (the `span` buffer starts at element `t.offset`).
 */
export function gatherStrided(t: TorchTensorRef, span: Uint8Array): Uint8Array {
  const es = DTYPE_SIZE[t.storage.dtype];
  const n = numel(t.shape);
  const out = new Uint8Array(n * es);
  const rank = t.shape.length;
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < n; i++) {
    out.set(span.subarray(src * es, src * es + es), i * es);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += t.stride[d];
      if (idx[d] < t.shape[d]) break;
      src -= t.stride[d] * t.shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Elements spanned by the tensor from its offset (0 for an empty tensor). */
export function spanElements(t: TorchTensorRef): number {
  if (numel(t.shape) === 0) return 0;
  return t.shape.reduce((a, d, i) => a + (d - 1) * t.stride[i], 0) + 1;
}
