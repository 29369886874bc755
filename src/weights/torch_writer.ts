/**
 * Node: write a state_dict as a PyTorch zip checkpoint (`torch.save` layout: `archive/data.pkl`
 * with protocol-2 persistent ids, `archive/data/<key>`, `archive/version`, `archive/byteorder`),
 * one tensor at a time so a 1 GB file needs little memory. For tests, benchmarks and
 * `scripts/make-random-checkpoint.mjs`; `torch.load` reads the result.
 */
import { WeightsError } from '../errors.js';
import type { RawTensor, StDtype } from '../codec/raw_tensor.js';
import { ZipWriter } from './zip_writer.js';

const STORAGE_NAMES: Partial<Record<StDtype, string>> = {
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  F64: 'DoubleStorage',
  I64: 'LongStorage',
  I32: 'IntStorage',
  I16: 'ShortStorage',
  I8: 'CharStorage',
  U8: 'ByteStorage',
  BOOL: 'BoolStorage',
};

/** Protocol-2 pickle opcodes, enough for a state_dict. */
class PickleOut {
  private parts: number[] = [];
  private readonly enc = new TextEncoder();
  byte(...b: number[]): this {
    this.parts.push(...b);
    return this;
  }
  str(s: string): this {
    const b = this.enc.encode(s);
    this.byte(
      0x58,
      b.length & 0xff,
      (b.length >> 8) & 0xff,
      (b.length >> 16) & 0xff,
      b.length >>> 24,
    );
    for (const x of b) this.parts.push(x);
    return this;
  }
  global(module: string, name: string): this {
    this.byte(0x63);
    for (const x of this.enc.encode(`${module}\n${name}\n`)) this.parts.push(x);
    return this;
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.byte(0x4b, n);
    if (n >= 0 && n < 65536) return this.byte(0x4d, n & 0xff, n >> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31)
      return this.byte(0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff);
    // LONG1, 8 bytes little-endian two's complement
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(n), true);
    return this.byte(0x8a, 8, ...b);
  }
  tuple(items: number[]): this {
    this.byte(0x28);
    for (const i of items) this.int(i);
    return this.byte(0x74);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** One tensor of a state_dict pickle: its storage (key, dtype, element count) and view. */
export interface PickledTensor {
  name: string;
  /** The storage's file under `data/`. */
  key: string;
  dtype: StDtype;
  numel: number;
  shape: number[];
  /** Elements, per dimension. */
  stride: number[];
}

/**
 * A torch.save state_dict pickle: OrderedDict of
 * `_rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())`, the views as given
 * (tests claim odd strides with it; TorchZipWriter passes contiguous ones).
 */
export function stateDictPickle(tensors: PickledTensor[]): Uint8Array {
  const p = new PickleOut()
    .byte(0x80, 2)
    .global('collections', 'OrderedDict')
    .byte(0x29, 0x52, 0x28);
  for (const t of tensors) {
    const storage = STORAGE_NAMES[t.dtype];
    if (!storage) throw new WeightsError(`dtype ${t.dtype} has no torch storage type`, t.name);
    p.str(t.name).global('torch._utils', '_rebuild_tensor_v2').byte(0x28);
    p.byte(0x28).str('storage').global('torch', storage).str(t.key).str('cpu').int(t.numel);
    p.byte(0x74, 0x51); // TUPLE, BINPERSID
    p.int(0).tuple(t.shape).tuple(t.stride).byte(0x89).global('collections', 'OrderedDict');
    p.byte(0x29, 0x52, 0x74, 0x52); // EMPTY_TUPLE, REDUCE, TUPLE, REDUCE
  }
  return p.byte(0x75, 0x2e).bytes(); // SETITEMS, STOP
}

export class TorchZipWriter {
  private readonly saved: PickledTensor[] = [];
  private nextKey = 0;

  private constructor(
    private readonly zip: ZipWriter,
    private readonly prefix: string,
  ) {}

  static async create(path: string, prefix = 'archive'): Promise<TorchZipWriter> {
    return new TorchZipWriter(await ZipWriter.create(path), prefix);
  }

  /** Save a tensor under its own storage. */
  async add(name: string, t: RawTensor): Promise<void> {
    if (!STORAGE_NAMES[t.dtype])
      throw new WeightsError(`dtype ${t.dtype} has no torch storage type`, name);
    const key = String(this.nextKey++);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const stride = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    await this.zip.add(`${this.prefix}/data/${key}`, [t.bytes]);
    this.saved.push({ name, key, dtype: t.dtype, numel, shape: t.shape, stride });
  }

  /** Save `name` as the same storage as the already-added `of` (tied weights). */
  alias(name: string, of: string): void {
    const s = this.saved.find((x) => x.name === of);
    if (!s) throw new WeightsError(`cannot alias unknown tensor '${of}'`, name);
    this.saved.push({ ...s, name });
  }

  /** The state_dict pickle of what was added (contiguous views). */
  pickle(): Uint8Array {
    return stateDictPickle(this.saved);
  }

  /** Write data.pkl (or `pickle` instead, for tests), version and byteorder; close. */
  async close(pickle: Uint8Array = this.pickle()): Promise<void> {
    await this.zip.add(`${this.prefix}/data.pkl`, [pickle]);
    await this.zip.add(`${this.prefix}/byteorder`, [new TextEncoder().encode('little')]);
    await this.zip.add(`${this.prefix}/version`, [new TextEncoder().encode('3\n')]);
    await this.zip.close();
  }

  async abort(): Promise<void> {
    await this.zip.abort();
  }
}
