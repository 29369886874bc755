/**
 * A one-layer ONNX model, Y = X · B + bias (MatMul then Add, B [k, n] and bias [n] float32
 * initializers, so ONNX Runtime prepacks B as it does a model's Linear weights), written as
 * protobuf bytes directly: no Python, no file. Fields as in onnx.proto (ModelProto, GraphProto,
 * NodeProto, TensorProto, ValueInfoProto), opset 17.
 */

/** Bytes being written: small fields as numbers, tensor data as views (not copied). */
class Out {
  readonly parts: (number[] | Uint8Array)[] = [[]];
  length = 0;
  push(byte: number): void {
    (this.parts[this.parts.length - 1] as number[]).push(byte);
    this.length++;
  }
  append(view: Uint8Array | Out): void {
    if (view instanceof Out) this.parts.push(...view.parts);
    else this.parts.push(view);
    this.parts.push([]);
    this.length += view.length;
  }
  concat(): Uint8Array {
    const all = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  }
}

function varint(value: number, out: Out): void {
  let n = value;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
}

function key(field: number, wire: 0 | 2, out: Out): void {
  varint(field * 8 + wire, out);
}

function bytes(field: number, b: Uint8Array | Out, out: Out): void {
  key(field, 2, out);
  varint(b.length, out);
  out.append(b);
}

function text(field: number, s: string, out: Out): void {
  bytes(field, new TextEncoder().encode(s), out);
}

function int(field: number, v: number, out: Out): void {
  key(field, 0, out);
  varint(v, out);
}

function message(field: number, build: (inner: Out) => void, out: Out): void {
  const inner = new Out();
  build(inner);
  bytes(field, inner, out);
}

const FLOAT = 1;

function tensor(name: string, dims: number[], data: Float32Array, out: Out): void {
  message(
    5, // GraphProto.initializer
    (t) => {
      for (const d of dims) int(1, d, t); // dims
      int(2, FLOAT, t); // data_type
      text(8, name, t); // name
      bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), t); // raw_data
    },
    out,
  );
}

function valueInfo(field: number, name: string, dims: number[], out: Out): void {
  message(
    field,
    (v) => {
      text(1, name, v);
      message(
        2, // type
        (tp) =>
          message(
            1, // tensor_type
            (tt) => {
              int(1, FLOAT, tt); // elem_type
              message(2, (sh) => dims.forEach((d) => message(1, (dd) => int(1, d, dd), sh)), tt);
            },
            tp,
          ),
        v,
      );
    },
    out,
  );
}

function node(inputs: string[], output: string, op: string, out: Out): void {
  message(
    1, // GraphProto.node
    (n) => {
      for (const i of inputs) text(1, i, n);
      text(2, output, n);
      text(4, op, n);
    },
    out,
  );
}

/** The model bytes for X [m, k] → Y [m, n]; `b` is [k, n] row-major. */
export function linearOnnx(m: number, k: number, n: number, b: Float32Array, bias: Float32Array) {
  const out = new Out();
  int(1, 8, out); // ir_version
  message(
    8, // opset_import
    (o) => {
      text(1, '', o);
      int(2, 17, o);
    },
    out,
  );
  message(
    7, // graph
    (g) => {
      node(['X', 'B'], 'T', 'MatMul', g);
      node(['T', 'bias'], 'Y', 'Add', g);
      text(2, 'linear', g);
      tensor('B', [k, n], b, g);
      tensor('bias', [n], bias, g);
      valueInfo(11, 'X', [m, k], g);
      valueInfo(12, 'Y', [m, n], g);
    },
    out,
  );
  return out.concat();
}
