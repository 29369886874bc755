/**
 * The restricted unpickler: torch.save's globals are accepted, everything else is refused by
 * name before anything could run; malformed pickles fail with the byte offset.
 */
import { describe, expect, it } from 'vitest';
import { WeightsError } from '../../src/errors.js';
import { PyDict, PyTuple, unpickle, type UnpickleHooks } from '../../src/weights/pickle.js';
import { stateDictTensors, unpickleTorch } from '../../src/weights/torch_pickle.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const noStorage = () => {
  throw new Error('no storages here');
};
const parse = (b: Uint8Array) => unpickleTorch(b, 'test.pkl', noStorage);

describe('restricted unpickler refuses globals by name', () => {
  // Made by CPython's pickle.dumps({'w': obj}) with obj.__reduce__ returning the callable.
  const cases: [string, string][] = [
    [
      'posix.system',
      '80027d7100580100000077710163706f7369780a73797374656d0a7102580a0000006563686f2070776e65647103857104527105732e',
    ],
    [
      'builtins.exec',
      '8004952b000000000000007d948c0177948c086275696c74696e73948c04657865639493948c087072696e742831299485945294732e',
    ],
  ];
  for (const [name, h] of cases) {
    it(`${name} (CPython pickle)`, () => {
      expect(() => parse(hex(h))).toThrow(
        new RegExp(`pickle global '${name.replace('.', '\\.')}' is not allowed`),
      );
    });
  }
  for (const name of [
    'os.system',
    'subprocess.Popen',
    'torch.storage._load_from_bytes',
    'builtins.eval',
  ]) {
    it(`${name} (GLOBAL)`, () => {
      const [m, n] = [name.slice(0, name.lastIndexOf('.')), name.slice(name.lastIndexOf('.') + 1)];
      const b = ascii(`\x80\x02c${m}\n${n}\n)R.`);
      expect(() => parse(b)).toThrow(WeightsError);
      expect(() => parse(b)).toThrow(`pickle global '${name}' is not allowed`);
    });
  }
  it('refuses REDUCE on something that is not an allowed global', () => {
    expect(() => parse(ascii('\x80\x02X\x01\x00\x00\x00a)R.'))).toThrow(/cannot call "a"/);
  });
  it('refuses unsupported opcodes (EXT1, INST, text protocol)', () => {
    expect(() => parse(ascii('\x80\x02\x82\x01.'))).toThrow(/opcode 0x82 is not supported/);
    expect(() => parse(ascii('(ios\nsystem\n.'))).toThrow(/opcode 0x69/);
  });
});

describe('pickle parsing', () => {
  const plain: UnpickleHooks = {
    findGlobal: () => {
      throw new Error('no');
    },
    call: () => null,
    build: (o) => o,
    persistentLoad: () => null,
  };
  it('reads scalars, strings, containers and memo', () => {
    // CPython: pickle.dumps({'a': t, 'b': [t, t]}, protocol=3),
    // t = (1, -1, 2**40, -2**70, 1.5, True, None, 'é', b'xy'); the list refers to t by memo.
    const b = hex(
      '80037d7100285801000000617101284b014affffffff8a060000000000018a090000000000000000c0473ff8' +
        '000000000000884e5802000000c3a9710243027879710374710458010000006271055d7106286804680465752e',
    );
    const { value } = unpickle(b, plain, 'x');
    expect(value).toBeInstanceOf(PyDict);
    const d = (value as PyDict).map;
    const t = d.get('a') as PyTuple;
    expect(t.items.slice(0, 8)).toEqual([1, -1, 2 ** 40, -(2n ** 70n), 1.5, true, null, 'é']);
    expect(t.items[8]).toEqual(new Uint8Array([0x78, 0x79]));
    expect(d.get('b')).toEqual([t, t]);
  });
  it('reports truncation and bad memo keys with the byte offset', () => {
    expect(() => unpickle(hex('8002580a000000616263'), plain, 'x')).toThrow(/truncated/);
    expect(() => unpickle(hex('80026805'), plain, 'x')).toThrow(
      /memo key 5 was never stored \(opcode at byte 2\)/,
    );
    expect(() => unpickle(hex(''), plain, 'x')).toThrow(/truncated/);
    expect(() => unpickle(hex('80022e'), plain, 'x')).toThrow(/stack underflow/);
  });
  it('a pickle that is not a dict is not a state_dict', () => {
    const { value } = parse(hex('80025d7100284b014b02652e'));
    expect(() => stateDictTensors(value, 'f.bin')).toThrow(/pickle holds a list, not a state_dict/);
  });
  it('an OrderedDict without tensors is refused', () => {
    const { value } = parse(ascii('\x80\x02ccollections\nOrderedDict\n)R.'));
    expect(() => stateDictTensors(value, 'f.bin')).toThrow(/holds no tensors/);
  });
});
