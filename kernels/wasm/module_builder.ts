/**
 * A minimal WebAssembly binary writer: one module importing `env.memory` and exporting functions
 * whose bodies are emitted instruction by instruction (the subset the GEMM kernel needs: locals,
 * blocks and loops, i32 arithmetic, SIMD128 loads/stores/arithmetic and relaxed-SIMD madd). It
 * lets the kernel be generated from TypeScript source at run time, with no WAT toolchain in the
 * install and no binary in the repository.
 */

export type ValType = 'i32' | 'f32' | 'v128';
const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

const OPS = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  'local.get': 0x20,
  'local.set': 0x21,
  'local.tee': 0x22,
  'i32.const': 0x41,
  'i32.eqz': 0x45,
  'i32.lt_u': 0x49,
  'i32.gt_u': 0x4b,
  'i32.ge_u': 0x4f,
  'i32.add': 0x6a,
  'i32.sub': 0x6b,
  'i32.mul': 0x6c,
  'i32.div_u': 0x6e,
  'i32.rem_u': 0x70,
  'i32.and': 0x71,
  'i32.shl': 0x74,
  'i32.shr_u': 0x76,
  'f32.sqrt': 0x91,
  'f32.add': 0x92,
  'f32.sub': 0x93,
  'f32.mul': 0x94,
  'f32.div': 0x95,
  'f32.max': 0x97,
  'f32.convert_i32_u': 0xb3,
} as const;

/** Scalar memory ops (followed by a memarg). */
const MEM = { 'f32.load': 0x2a, 'f32.store': 0x38 } as const;

/** SIMD opcodes (after the 0xfd prefix). */
const SIMD = {
  'v128.load': 0x00,
  'v128.load8x8_s': 0x01,
  'v128.load32_splat': 0x09,
  'v128.store': 0x0b,
  'i32x4.splat': 0x11,
  'v128.and': 0x4e,
  'v128.or': 0x50,
  'i32x4.extend_low_i16x8_s': 0xa7,
  'i32x4.extend_high_i16x8_s': 0xa8,
  'i32x4.extend_low_i16x8_u': 0xa9,
  'i32x4.extend_high_i16x8_u': 0xaa,
  'f32x4.splat': 0x13,
  'f32x4.nearest': 0x6a,
  'i32x4.shl': 0xab,
  'i32x4.add': 0xae,
  'f32x4.add': 0xe4,
  'f32x4.sub': 0xe5,
  'f32x4.mul': 0xe6,
  'f32x4.div': 0xe7,
  'f32x4.min': 0xe8,
  'f32x4.max': 0xe9,
  'i32x4.trunc_sat_f32x4_s': 0xf8,
  'f32x4.convert_i32x4_s': 0xfa,
  'f32x4.relaxed_madd': 0x105,
} as const;

function uleb(n: number, out: number[]): void {
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

function name(s: string, out: number[]): void {
  const bytes = new TextEncoder().encode(s);
  uleb(bytes.length, out);
  out.push(...bytes);
}

/** The body of one function: named locals, then instructions. */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly locals = new Map<string, number>();
  private readonly extra: ValType[] = [];

  constructor(
    readonly exportName: string,
    readonly params: [string, ValType][],
  ) {
    params.forEach(([n], i) => this.locals.set(n, i));
  }

  local(n: string, type: ValType): this {
    if (this.locals.has(n)) throw new Error(`local ${n} declared twice`);
    this.locals.set(n, this.params.length + this.extra.length);
    this.extra.push(type);
    return this;
  }

  private index(n: string): number {
    const i = this.locals.get(n);
    if (i === undefined) throw new Error(`unknown local ${n}`);
    return i;
  }

  get(n: string): this {
    this.code.push(OPS['local.get']);
    uleb(this.index(n), this.code);
    return this;
  }
  set(n: string): this {
    this.code.push(OPS['local.set']);
    uleb(this.index(n), this.code);
    return this;
  }
  tee(n: string): this {
    this.code.push(OPS['local.tee']);
    uleb(this.index(n), this.code);
    return this;
  }
  i32(v: number): this {
    this.code.push(OPS['i32.const']);
    sleb(v | 0, this.code);
    return this;
  }
  f32(v: number): this {
    this.code.push(0x43);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    this.code.push(...b);
    return this;
  }
  /** A scalar f32 load or store at the address on the stack (+ offset). */
  mem(o: keyof typeof MEM, offset = 0): this {
    this.code.push(MEM[o]);
    uleb(2, this.code);
    uleb(offset, this.code);
    return this;
  }
  /** f32x4.extract_lane `lane`. */
  lane(lane: number): this {
    this.code.push(0xfd);
    uleb(0x1f, this.code);
    this.code.push(lane);
    return this;
  }
  op(o: Exclude<keyof typeof OPS, 'local.get' | 'local.set' | 'local.tee' | 'i32.const'>): this {
    this.code.push(OPS[o]);
    if (o === 'block' || o === 'loop') this.code.push(0x40);
    return this;
  }
  /** br / br_if to the label `depth` levels out. */
  branch(o: 'br' | 'br_if', depth: number): this {
    this.code.push(OPS[o]);
    uleb(depth, this.code);
    return this;
  }
  simd(o: keyof typeof SIMD, memarg?: { align: number; offset: number }): this {
    this.code.push(0xfd);
    uleb(SIMD[o], this.code);
    if (memarg) {
      uleb(memarg.align, this.code);
      uleb(memarg.offset, this.code);
    }
    return this;
  }

  /** Locals declaration + body, as the code section wants it. */
  encode(): number[] {
    const body: number[] = [];
    uleb(this.extra.length, body);
    for (const t of this.extra) {
      body.push(1, VALTYPE[t]);
    }
    body.push(...this.code, OPS.end);
    const out: number[] = [];
    uleb(body.length, out);
    return out.concat(body);
  }
}

function section(id: number, content: number[], out: number[]): void {
  out.push(id);
  uleb(content.length, out);
  out.push(...content);
}

/**
 * A module importing `env.memory` (min/max pages, shared or not) and exporting `functions`
 * (each returning nothing).
 */
export function buildModule(
  functions: FunctionBuilder[],
  memory: { min: number; max: number; shared: boolean },
): Uint8Array<ArrayBuffer> {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(functions.length, types);
  for (const f of functions) {
    types.push(0x60);
    uleb(f.params.length, types);
    for (const [, t] of f.params) types.push(VALTYPE[t]);
    types.push(0); // no results
  }
  section(1, types, out);
  const imports: number[] = [1];
  name('env', imports);
  name('memory', imports);
  imports.push(0x02, memory.shared ? 0x03 : 0x01);
  uleb(memory.min, imports);
  uleb(memory.max, imports);
  section(2, imports, out);
  const funcs: number[] = [];
  uleb(functions.length, funcs);
  functions.forEach((_, i) => uleb(i, funcs));
  section(3, funcs, out);
  const exports: number[] = [];
  uleb(functions.length, exports);
  functions.forEach((f, i) => {
    name(f.exportName, exports);
    exports.push(0x00);
    uleb(i, exports);
  });
  section(7, exports, out);
  const code: number[] = [];
  uleb(functions.length, code);
  for (const f of functions) code.push(...f.encode());
  section(10, code, out);
  return new Uint8Array(out);
}
