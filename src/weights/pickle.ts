/**
 * A Python pickle *parser* (protocols 0–5, binary opcodes only) that never evaluates anything.
 *
 * Globals, REDUCE/NEWOBJ, BUILD and persistent ids are handed to caller-supplied hooks, which
 * decide what each may become (see torch_pickle.ts for the allow-list torch.save needs). A
 * hook that refuses throws; nothing in here imports or calls code named by the pickle. The
 * opcode semantics follow CPython's `Lib/pickle.py` (`_Unpickler.load_*`) and the opcode table
 * in `Lib/pickletools.py`. Browser-safe (no node: imports).
 */
import { WeightsError } from '../errors.js';

/** A Python tuple (lists are plain arrays). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** Keys a dict may have here: Python's hashable scalars. */
export type PyKey = string | number | bigint | boolean | null;

/** A Python dict (or OrderedDict: `ordered`). Insertion order is kept. */
export class PyDict {
  readonly map = new Map<PyKey, PyValue>();
  constructor(readonly ordered = false) {}
}

/** A global named by GLOBAL/STACK_GLOBAL that a hook accepted (e.g. `collections.OrderedDict`). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A value made by a hook (a storage reference, a tensor reference …). */
export interface PyOpaque {
  readonly pyType: string;
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | PyGlobal
  | PyOpaque;

/** What the caller allows. Each hook throws (a WeightsError) to refuse. */
export interface UnpickleHooks {
  /** GLOBAL / STACK_GLOBAL `module name`. */
  findGlobal(module: string, name: string): PyValue;
  /** REDUCE and NEWOBJ: `callable(*args)`. */
  call(callable: PyValue, args: PyValue[]): PyValue;
  /** BUILD: `obj.__setstate__(state)`; returns the object that stays on the stack. */
  build(obj: PyValue, state: PyValue): PyValue;
  /** BINPERSID: the object behind a persistent id. */
  persistentLoad(pid: PyValue): PyValue;
}

/**
 * Thrown when the pickle runs past the given bytes (the caller may retry with more). Reported
 * as a WeightsError.
 */
export class PickleTruncatedError extends WeightsError {
  constructor(message: string, where?: string) {
    super(message, where);
    this.name = 'WeightsError';
  }
}

export interface UnpickleResult {
  value: PyValue;
  /** Offset just past the STOP opcode. */
  end: number;
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/** Largest LONG4 we accept (bytes); torch never writes more than a few. */
const MAX_LONG_BYTES = 64;

/**
 * Unpickle one object from `buf` starting at `start`. `source` names the file in errors.
 */
export function unpickle(
  buf: Uint8Array,
  hooks: UnpickleHooks,
  source: string,
  start = 0,
): UnpickleResult {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pos = start;
  let opPos = start;
  let stack: StackItem[] = [];
  const metastack: StackItem[][] = [];
  const memo = new Map<number, PyValue>();

  const fail = (msg: string): never => {
    throw new WeightsError(`pickle: ${msg} (opcode at byte ${opPos})`, source);
  };
  const need = (n: number): void => {
    if (n < 0) fail(`negative length ${n}`);
    if (pos + n > buf.byteLength) {
      throw new PickleTruncatedError(
        `pickle: truncated, needs ${n} more bytes at byte ${pos} of ${buf.byteLength}`,
        source,
      );
    }
  };
  const u8 = (): number => {
    need(1);
    return buf[pos++];
  };
  const u16 = (): number => {
    need(2);
    pos += 2;
    return dv.getUint16(pos - 2, true);
  };
  const u32 = (): number => {
    need(4);
    pos += 4;
    return dv.getUint32(pos - 4, true);
  };
  const i32 = (): number => {
    need(4);
    pos += 4;
    return dv.getInt32(pos - 4, true);
  };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(buf.byteLength)) fail(`length ${v} is past the end of the data`);
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    pos += n;
    return buf.subarray(pos - n, pos);
  };
  const text = (n: number): string => {
    const b = bytes(n);
    try {
      return utf8.decode(b);
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const latin1 = (n: number): string => {
    const b = bytes(n);
    let s = '';
    for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
    return s;
  };
  const line = (): string => {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) need(buf.byteLength - pos + 1);
    const s = latin1(nl - pos);
    pos++;
    return s;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined) return fail('stack underflow');
    if (v === MARK) return fail('unexpected MARK on the stack');
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) return fail('stack underflow');
    return v;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) return fail('no MARK to pop to');
    stack = prev;
    if (items.includes(MARK)) fail('nested MARK');
    return items as PyValue[];
  };
  const key = (k: PyValue): PyKey => {
    if (k === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof k))
      return k as PyKey;
    return fail('dict key is not a string or number');
  };
  const setItems = (dict: PyValue, items: PyValue[]): void => {
    if (!(dict instanceof PyDict)) fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (dict as PyDict).map.set(key(items[i]), items[i + 1]);
  };
  const append = (list: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(list)) fail('APPEND(S) on something that is not a list');
    // One at a time: a spread of a long APPENDS overflows the call stack.
    for (const item of items) (list as PyValue[]).push(item);
  };
  const get = (i: number): PyValue => {
    if (!memo.has(i)) fail(`memo key ${i} was never stored`);
    return memo.get(i) as PyValue;
  };
  const put = (i: number): void => {
    memo.set(i, top());
  };
  const long = (n: number): bigint => {
    if (n > MAX_LONG_BYTES) fail(`integer of ${n} bytes is too large`);
    const b = bytes(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v;
  };
  const int = (v: bigint): number | bigint =>
    v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  const push = (v: PyValue): void => {
    stack.push(v);
  };

  for (;;) {
    opPos = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: {
        // STOP
        const value = pop();
        return { value, end: pos };
      }
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(int(long(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0) fail('negative LONG4 length');
        push(int(long(n)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        pos += 8;
        push(dv.getFloat64(pos - 8, false));
        break;
      case 0x58: // BINUNICODE
        push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(text(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        push(latin1(i32()));
        break;
      case 0x55: // SHORT_BINSTRING
        push(latin1(u8()));
        break;
      case 0x42: // BINBYTES
        push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        push(bytes(u64()).slice());
        break;
      case 0x7d: // EMPTY_DICT
        push(new PyDict());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        put(u8());
        break;
      case 0x72: // LONG_BINPUT
        put(u32());
        break;
      case 0x94: // MEMOIZE
        put(memo.size);
        break;
      case 0x68: // BINGET
        push(get(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(get(u32()));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        push(hooks.findGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          fail('STACK_GLOBAL with non-string module or name');
        }
        push(hooks.findGlobal(module as string, name as string));
        break;
      }
      case 0x52: // REDUCE
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const callable = pop();
        if (!(args instanceof PyTuple)) fail('REDUCE/NEWOBJ arguments are not a tuple');
        push(hooks.call(callable, (args as PyTuple).items));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        push(hooks.build(pop(), state));
        break;
      }
      case 0x51: // BINPERSID
        push(hooks.persistentLoad(pop()));
        break;
      default:
        fail(
          `opcode 0x${op.toString(16).padStart(2, '0')} is not supported ` +
            '(only the binary opcodes torch.save writes are)',
        );
    }
  }
}
