/**
 * Symmetric per-row int8 quantization, the converter's `int8` encoding:
 * `scale[r] = max|w[r]| / 127` (float32), `q[r][c] = round(w[r][c] / scale[r])` ∈ [-127, 127],
 * `w[r][c] ≈ q[r][c] × scale[r]`. Rows are a Linear weight's output channels or an embedding's
 * tokens.
 *
 * Byte layout of one [rows, cols] tensor (model.json `scaleBytes` = rows × 4): `rows` float32
 * little-endian scales, then `rows × cols` int8 values. Browser-safe.
 */

/** An int8 tensor with its per-row scales. */
export interface Int8Rows {
  /** [rows × cols] int8 values, row-major. */
  int8: Int8Array;
  /** [rows] float32 scales. */
  scales: Float32Array;
}

/** Bytes of the int8 encoding of a [rows, cols] tensor. */
export function int8ByteLength(rows: number, cols: number): number {
  return rows * 4 + rows * cols;
}

/**
 * Quantize a row-major [rows, cols] float32 tensor. The result's scales and values are views on
 * one buffer in the byte layout above (int8Bytes returns it without copying).
 */
export function quantizeInt8(values: Float32Array, rows: number, cols: number): Int8Rows {
  const buffer = new ArrayBuffer(int8ByteLength(rows, cols));
  const scales = new Float32Array(buffer, 0, rows);
  const int8 = new Int8Array(buffer, rows * 4, rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = values.subarray(r * cols, (r + 1) * cols);
    let max = 0;
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(row[c]);
      if (a > max) max = a;
    }
    const scale = Math.fround(max / 127);
    scales[r] = scale;
    if (scale === 0 || !Number.isFinite(scale)) continue;
    const inv = 1 / scale;
    for (let c = 0; c < cols; c++) {
      const v = Math.round(row[c] * inv);
      int8[r * cols + c] = v > 127 ? 127 : v < -127 ? -127 : v;
    }
  }
  return { int8, scales };
}

/** float32 values `q × scale[row]` of an int8 tensor with `cols` values a row. */
export function dequantizeInt8(q: Int8Rows, cols: number): Float32Array {
  const out = new Float32Array(q.int8.length);
  for (let r = 0; r < q.scales.length; r++) {
    const s = q.scales[r];
    for (let c = r * cols, e = c + cols; c < e; c++) out[c] = q.int8[c] * s;
  }
  return out;
}

/** The byte layout of an int8 tensor (no copy when it came from quantizeInt8). */
export function int8Bytes(q: Int8Rows): Uint8Array {
  const rows = q.scales.length;
  const { buffer } = q.scales;
  if (
    q.int8.buffer === buffer &&
    q.int8.byteOffset === q.scales.byteOffset + rows * 4 &&
    buffer.byteLength === q.scales.byteOffset + rows * 4 + q.int8.length
  ) {
    return new Uint8Array(buffer, q.scales.byteOffset, rows * 4 + q.int8.length);
  }
  const out = new Uint8Array(rows * 4 + q.int8.length);
  const dv = new DataView(out.buffer);
  for (let r = 0; r < rows; r++) dv.setFloat32(r * 4, q.scales[r], true);
  out.set(new Uint8Array(q.int8.buffer, q.int8.byteOffset, q.int8.length), rows * 4);
  return out;
}

/**
 * The int8 tensor in `bytes` (the byte layout above, exactly int8ByteLength(rows, cols) long):
 * views when the scales are 4-byte aligned, else the scales are copied.
 */
export function int8FromBytes(bytes: Uint8Array, rows: number, cols: number): Int8Rows {
  const int8 = new Int8Array(bytes.buffer, bytes.byteOffset + rows * 4, rows * cols);
  if (bytes.byteOffset % 4 === 0) {
    return { int8, scales: new Float32Array(bytes.buffer, bytes.byteOffset, rows) };
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, rows * 4);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) scales[r] = dv.getFloat32(r * 4, true);
  return { int8, scales };
}
