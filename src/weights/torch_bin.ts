/**
 * Node: open a `torch.save` checkpoint (`pytorch_model.bin`) without loading it into memory.
 *
 * Zip format (PyTorch ≥ 1.6): `<prefix>/data.pkl` is the pickled state_dict whose persistent
 * ids `('storage', StorageType, key, location, numel)` name entries `<prefix>/data/<key>`.
 *
 * Legacy format (PyTorch < 1.6, `_use_new_zipfile_serialization=False`), after torch's
 * `_legacy_load`: five consecutive pickles — magic number 0x1950a86a20f9469cfc6c, protocol
 * version 1001, sys info, the state_dict (persistent ids `('storage', StorageType, root_key,
 * location, numel, view_metadata)` with view_metadata `None` or `(view_key, offset, numel)`),
 * the list of storage keys — then, for each key in that order, a little-endian int64 element
 * count and the storage's raw bytes. The pre-0.4 tar layout is refused with a message.
 */
import type { FileHandle } from 'node:fs/promises';
import { WeightsError, formatShape } from '../errors.js';
import { limits } from '../limits.js';
import { openForRead } from './fs_util.js';
import { PickleTruncatedError, PyDict, PyTuple, unpickle, type PyValue } from './pickle.js';
import { DTYPE_SIZE, type StDtype } from '../codec/raw_tensor.js';
import type { TensorEntry, WeightsFile } from './tensor_source.js';
import {
  gatherStrided,
  isContiguous,
  pidInt,
  pidKey,
  spanElements,
  stateDictTensors,
  unpickleTorch,
  type TorchStorageRef,
  type TorchTensorRef,
} from './torch_pickle.js';
import {
  looksLikeZip,
  readAt,
  readZipDirectory,
  readZipEntry,
  zipDataOffset,
} from './zip_reader.js';

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** Where a root storage's bytes start in the file, and how many elements it holds. */
interface StorageLocation {
  start: number;
  numel: number;
  dtype: StDtype;
}

function makeEntries(
  fh: FileHandle,
  tensors: Map<string, TorchTensorRef>,
  locate: (key: string) => StorageLocation,
  source: string,
): Map<string, TensorEntry> {
  const out = new Map<string, TensorEntry>();
  for (const [name, t] of tensors) {
    const where = `${source}: tensor '${name}'`;
    const loc = locate(t.storage.key);
    if (loc.dtype !== t.storage.dtype) {
      throw new WeightsError(
        `storage '${t.storage.key}' is used as ${loc.dtype} and ${t.storage.dtype}`,
        where,
      );
    }
    const es = DTYPE_SIZE[t.storage.dtype];
    const first = (t.storage.view?.offset ?? 0) + t.offset;
    const span = spanElements(t);
    if (span > 0 && first + span > loc.numel) {
      throw new WeightsError(
        `${formatShape(t.shape)} at element ${first} runs past its storage (${loc.numel} elements)`,
        where,
      );
    }
    const contiguous = isContiguous(t);
    const n = t.shape.reduce((a, b) => a * b, 1);
    const nbytes = n * es;
    // A view whose strides repeat elements (stride 0, overlapping rows) expands a few stored
    // values into a large tensor: refused before anything is allocated.
    const maxExpansion = limits().maxViewExpansion;
    const expands = !contiguous && n > Math.max(span, 1) * maxExpansion && nbytes > 1 << 20;
    if (expands || (!contiguous && nbytes > 2 ** 32)) {
      throw new WeightsError(
        `strided view of ${formatShape(t.shape)} (strides ${formatShape(t.stride)}) would expand ` +
          `${span} stored elements into ${n} (${nbytes} bytes), more than ${maxExpansion} times ` +
          '(limit maxViewExpansion)',
        where,
      );
    }
    const start = loc.start + first * es;
    out.set(name, {
      name,
      dtype: t.storage.dtype,
      shape: t.shape,
      storageId: `${t.storage.key}@${first}:${t.stride.join(',')}`,
      read: async () => {
        const bytes = await readAt(fh, start, span * es, where);
        return contiguous ? bytes : gatherStrided(t, bytes);
      },
    });
  }
  return out;
}

async function openZip(fh: FileHandle, size: number, path: string): Promise<WeightsFile> {
  const dir = await readZipDirectory(fh, size, path);
  const pkls = [...dir.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    throw new WeightsError(
      `zip archive with ${pkls.length} '<name>/data.pkl' records: not a PyTorch checkpoint`,
      path,
    );
  }
  const prefix = pkls[0].slice(0, -'data.pkl'.length);
  const order = dir.get(`${prefix}byteorder`);
  if (order) {
    const bo = new TextDecoder().decode(await readZipEntry(fh, order, size, path)).trim();
    if (bo !== 'little')
      throw new WeightsError(`byteorder '${bo}' is not supported (little-endian only)`, path);
  }
  const pkl = await readZipEntry(fh, dir.get(pkls[0])!, size, path);
  const storages = new Map<string, TorchStorageRef>();
  const { value } = unpickleTorch(pkl, `${path}: ${pkls[0]}`, (items, storageDtype) => {
    if (items.length !== 5)
      throw new WeightsError(`pickle: storage id with ${items.length} fields, expected 5`, path);
    const ref: TorchStorageRef = {
      pyType: 'storage',
      dtype: storageDtype(items[1]),
      key: pidKey(items[2], path),
      numel: pidInt(items[4], 'size', path),
    };
    storages.set(ref.key, ref);
    return ref;
  });
  const tensors = stateDictTensors(value, path);
  const locs = new Map<string, StorageLocation>();
  for (const [key, ref] of storages) {
    const entry = dir.get(`${prefix}data/${key}`);
    if (!entry)
      throw new WeightsError(`storage '${key}' has no '${prefix}data/${key}' record`, path);
    const nbytes = ref.numel * DTYPE_SIZE[ref.dtype];
    if (entry.method !== 0) {
      throw new WeightsError(
        `storage record '${entry.name}' is compressed (torch writes them stored)`,
        path,
      );
    }
    if (entry.size !== nbytes) {
      throw new WeightsError(
        `storage '${key}' (${ref.numel} × ${ref.dtype} = ${nbytes} bytes) has a ${entry.size}-byte record`,
        path,
      );
    }
    const start = await zipDataOffset(fh, entry, path);
    if (start + nbytes > size)
      throw new WeightsError(`storage record '${entry.name}' runs past the end`, path);
    locs.set(key, { start, numel: ref.numel, dtype: ref.dtype });
  }
  const entries = makeEntries(fh, tensors, (k) => locs.get(k)!, path);
  return { path, format: 'pytorch-zip', entries, close: () => fh.close() };
}

const PLAIN = (path: string) => ({
  findGlobal: (m: string, n: string): never => {
    throw new WeightsError(`pickle global '${m}.${n}' is not allowed in a legacy header`, path);
  },
  call: (): never => {
    throw new WeightsError('pickle: call in a legacy header', path);
  },
  build: (): never => {
    throw new WeightsError('pickle: BUILD in a legacy header', path);
  },
  persistentLoad: (): never => {
    throw new WeightsError('pickle: persistent id in a legacy header', path);
  },
});

function parseLegacy(buf: Uint8Array, path: string) {
  let magic: { value: PyValue; end: number } | undefined;
  try {
    magic = unpickle(buf, PLAIN(path), path, 0);
  } catch {
    // Not a pickle we can read: reported below as not a checkpoint.
  }
  const m = magic?.value;
  if (!magic || !(typeof m === 'bigint' && m === LEGACY_MAGIC)) {
    throw new WeightsError(
      'not a PyTorch checkpoint: neither a zip archive nor the legacy magic number',
      path,
    );
  }
  const proto = unpickle(buf, PLAIN(path), path, magic.end);
  if (proto.value !== LEGACY_PROTOCOL) {
    throw new WeightsError(
      `legacy protocol version ${String(proto.value)} is not supported (1001 is)`,
      path,
    );
  }
  const sys = unpickle(buf, PLAIN(path), path, proto.end);
  if (sys.value instanceof PyDict && sys.value.map.get('little_endian') === false) {
    throw new WeightsError('big-endian legacy checkpoints are not supported', path);
  }
  const roots = new Map<string, TorchStorageRef>();
  const body = unpickleTorch(
    buf,
    path,
    (items, storageDtype) => {
      if (items.length !== 6)
        throw new WeightsError(`pickle: storage id with ${items.length} fields, expected 6`, path);
      const dtype = storageDtype(items[1]);
      const key = pidKey(items[2], path);
      const n = pidInt(items[4], 'size', path);
      const prev = roots.get(key);
      if (prev && (prev.dtype !== dtype || prev.numel !== n)) {
        throw new WeightsError(
          `storage '${key}' is declared twice with different dtype or size`,
          path,
        );
      }
      roots.set(key, { pyType: 'storage', dtype, key, numel: n });
      const ref: TorchStorageRef = { pyType: 'storage', dtype, key, numel: n };
      const vm = items[5];
      if (vm instanceof PyTuple && vm.items.length === 3) {
        ref.view = {
          offset: pidInt(vm.items[1], 'view offset', path),
          numel: pidInt(vm.items[2], 'view size', path),
        };
        if (ref.view.offset + ref.view.numel > n) {
          throw new WeightsError(
            `storage view of '${key}' runs past its root (${n} elements)`,
            path,
          );
        }
      } else if (vm !== null) {
        throw new WeightsError('pickle: storage view metadata is not (key, offset, size)', path);
      }
      return ref;
    },
    sys.end,
  );
  const keys = unpickle(buf, PLAIN(path), path, body.end);
  if (!Array.isArray(keys.value) || keys.value.some((k) => typeof k !== 'string')) {
    throw new WeightsError('legacy storage key list is not a list of strings', path);
  }
  return { root: body.value, roots, keys: keys.value as string[], dataStart: keys.end };
}

async function openLegacy(fh: FileHandle, size: number, path: string): Promise<WeightsFile> {
  // A legacy header + state_dict pickle longer than maxPickleBytes is refused (real ones < 1 MB).
  const limit = Math.min(size, limits().maxPickleBytes);
  let len = Math.min(limit, 1 << 20);
  let parsed: ReturnType<typeof parseLegacy>;
  for (;;) {
    const buf = await readAt(fh, 0, len, path);
    try {
      parsed = parseLegacy(buf, path);
      break;
    } catch (e) {
      if (!(e instanceof PickleTruncatedError) || len >= size) throw e;
      if (len >= limit)
        throw new WeightsError(
          `legacy pickle is longer than ${limit} bytes (limit maxPickleBytes)`,
          path,
        );
      len = Math.min(limit, len * 4);
    }
  }
  const tensors = stateDictTensors(parsed.root as PyValue, path);
  const locs = new Map<string, StorageLocation>();
  let pos = parsed.dataStart;
  for (const key of parsed.keys) {
    const ref = parsed.roots.get(key);
    if (!ref) throw new WeightsError(`storage '${key}' is listed but no tensor uses it`, path);
    if (locs.has(key)) throw new WeightsError(`storage '${key}' is listed twice`, path);
    const count = new DataView((await readAt(fh, pos, 8, path)).buffer).getBigInt64(0, true);
    if (count !== BigInt(ref.numel)) {
      throw new WeightsError(
        `storage '${key}' at byte ${pos} holds ${count} elements, the pickle says ${ref.numel}`,
        path,
      );
    }
    const nbytes = ref.numel * DTYPE_SIZE[ref.dtype];
    if (pos + 8 + nbytes > size) {
      throw new WeightsError(
        `truncated: storage '${key}' needs bytes up to ${pos + 8 + nbytes}, the file has ${size}`,
        path,
      );
    }
    locs.set(key, { start: pos + 8, numel: ref.numel, dtype: ref.dtype });
    pos += 8 + nbytes;
  }
  const entries = makeEntries(
    fh,
    tensors,
    (k) => {
      const loc = locs.get(k);
      if (!loc)
        throw new WeightsError(`storage '${k}' is used but its data is not in the file`, path);
      return loc;
    },
    path,
  );
  return { path, format: 'pytorch-legacy', entries, close: () => fh.close() };
}

/** Open a `.bin` checkpoint for streaming reads. Closes the file on any error. */
export async function openTorchBin(path: string, root?: string): Promise<WeightsFile> {
  const fh = await openForRead(path, { root });
  try {
    const size = (await fh.stat()).size;
    if (size === 0) throw new WeightsError('empty file', path);
    const head = await readAt(fh, 0, Math.min(size, 512), path);
    if (looksLikeZip(head)) return await openZip(fh, size, path);
    if (size >= 512 && new TextDecoder().decode(head.subarray(257, 262)) === 'ustar') {
      throw new WeightsError(
        'tar-format checkpoints (PyTorch < 0.4) are not supported; re-save with torch.save',
        path,
      );
    }
    if (head[0] !== 0x80) {
      throw new WeightsError('not a PyTorch checkpoint: neither a zip archive nor a pickle', path);
    }
    return await openLegacy(fh, size, path);
  } catch (e) {
    await fh.close();
    throw e;
  }
}
