/**
 * safetensors reader and writer (https://github.com/huggingface/safetensors, format spec).
 *
 * Layout: u64 little-endian header length N, N bytes of JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {str: str}}`, then the data
 * buffer. Offsets are relative to the data buffer. Every header entry is checked against the
 * file: known dtype, integer shape, byte count = numel × dtype size, in range; names unique;
 * the tensors tile the data buffer exactly (no overlap, no byte that no tensor covers), as
 * the safetensors library itself requires.
 */
import { WeightsError, formatShape } from '../errors.js';
import { DTYPE_SIZE, isStDtype, numel, type RawTensor, type StDtype } from '../codec/raw_tensor.js';
import { parseJsonGuarded } from '../json_guard.js';
import { limits } from '../limits.js';

/** A header entry, checked; offsets are absolute within the file. */
export interface SafetensorsEntry {
  name: string;
  dtype: StDtype;
  shape: number[];
  /** Absolute byte offsets in the file: [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Absolute offset of the data buffer (8 + header length). */
  dataStart: number;
}

/**
 * Parse and validate the header, given the file's first bytes (at least 8 + N) and its total
 * size. `source` names the file in errors.
 */
export function parseSafetensorsHeader(
  head: Uint8Array,
  fileSize: number,
  source: string,
): SafetensorsHeader {
  if (fileSize < 8 || head.byteLength < 8) {
    throw new WeightsError(
      `not a safetensors file: ${fileSize} bytes, shorter than the 8-byte header length`,
      source,
    );
  }
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 + 8n > BigInt(fileSize)) {
    throw new WeightsError(
      `header length ${n64} runs past the end of the file (${fileSize} bytes)`,
      source,
    );
  }
  const maxHeader = limits().maxSafetensorsHeaderBytes;
  if (n64 > BigInt(maxHeader)) {
    throw new WeightsError(
      `header length ${n64} is more than the ${maxHeader} allowed (limit maxSafetensorsHeaderBytes)`,
      source,
    );
  }
  const n = Number(n64);
  if (head.byteLength < 8 + n) {
    throw new WeightsError(`header needs ${8 + n} bytes, got ${head.byteLength}`, source);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(8, 8 + n));
  } catch (e) {
    throw new WeightsError(`header is not valid UTF-8 (${(e as Error).message})`, source);
  }
  // Refuses duplicate tensor names (JSON.parse would keep the last silently) and deep nesting.
  const json = parseJsonGuarded(text, (msg) => {
    throw new WeightsError(`header: ${msg}`, source);
  });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WeightsError('header is not a JSON object', source);
  }
  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        metadata = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
      }
      continue;
    }
    const where = `${source}: tensor '${name}'`;
    if (typeof v !== 'object' || v === null)
      throw new WeightsError('entry is not an object', where);
    const { dtype, shape, data_offsets: offs } = v as Record<string, unknown>;
    if (!isStDtype(dtype)) throw new WeightsError(`unknown dtype ${JSON.stringify(dtype)}`, where);
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new WeightsError(
        `shape ${JSON.stringify(shape)} is not a list of non-negative integers`,
        where,
      );
    }
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isInteger(o) && o >= 0) ||
      offs[1] < offs[0]
    ) {
      throw new WeightsError(`data_offsets ${JSON.stringify(offs)} are not [begin, end]`, where);
    }
    const [b, e] = offs as [number, number];
    if (e > dataSize) {
      throw new WeightsError(
        `data_offsets [${b}, ${e}] run past the end of the data (${dataSize} bytes)`,
        where,
      );
    }
    const want = numel(shape) * DTYPE_SIZE[dtype];
    if (e - b !== want) {
      throw new WeightsError(
        `${dtype} ${formatShape(shape)} needs ${want} bytes, data_offsets give ${e - b}`,
        where,
      );
    }
    entries.push({
      name,
      dtype,
      shape: shape as number[],
      begin: dataStart + b,
      end: dataStart + e,
    });
  }
  const sorted = [...entries].sort((x, y) => x.begin - y.begin || x.end - y.end);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      throw new WeightsError(
        `tensors '${sorted[i - 1].name}' and '${sorted[i].name}' overlap in the data buffer`,
        source,
      );
    }
  }
  let covered = dataStart;
  for (const e of sorted) {
    if (e.begin > covered) {
      throw new WeightsError(
        `data bytes ${covered - dataStart}..${e.begin - dataStart} belong to no tensor ` +
          `(before '${e.name}'); a safetensors data buffer holds its tensors and nothing else`,
        source,
      );
    }
    covered = e.end;
  }
  if (covered !== fileSize) {
    throw new WeightsError(
      `data bytes ${covered - dataStart}..${dataSize} at the end belong to no tensor`,
      source,
    );
  }
  return { entries, metadata, dataStart };
}

/** Parse a whole safetensors file held in memory. Tensors are views into `buf` (no copy). */
export function readSafetensors(buf: Uint8Array, source = 'safetensors'): Map<string, RawTensor> {
  const header = parseSafetensorsHeader(buf, buf.byteLength, source);
  const out = new Map<string, RawTensor>();
  for (const e of header.entries) {
    out.set(e.name, { dtype: e.dtype, shape: e.shape, bytes: buf.subarray(e.begin, e.end) });
  }
  return out;
}

/**
 * Serialize tensors to safetensors bytes (names sorted, header padded with spaces to 8 bytes,
 * as HF's writer does).
 */
export function writeSafetensors(
  tensors: Map<string, RawTensor> | Record<string, RawTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const names = [...map.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = map.get(name)!;
    const size = t.bytes.byteLength;
    if (size !== numel(t.shape) * DTYPE_SIZE[t.dtype]) {
      throw new WeightsError(
        `${t.dtype} ${formatShape(t.shape)} does not match ${size} bytes`,
        name,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const pad = (8 - (hb.byteLength % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    hb = enc.encode(json);
  }
  const out = new Uint8Array(8 + hb.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.byteLength), true);
  out.set(hb, 8);
  let p = 8 + hb.byteLength;
  for (const name of names) {
    const b = map.get(name)!.bytes;
    out.set(b, p);
    p += b.byteLength;
  }
  return out;
}
