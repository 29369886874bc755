/**
 * Writer for airsplay/lxmert's `*_obj36.tsv` lines: the twin of obj36.ts's reader (10
 * tab-separated fields, arrays as base64 of little-endian bytes, ids as int64, boxes in pixels).
 * Browser-safe.
 */
import { InputError } from '../errors.js';
import type { Obj36Image } from './obj36.js';

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function f32Bytes(v: Float32Array): Uint8Array {
  const out = new Uint8Array(v.length * 4);
  const dv = new DataView(out.buffer);
  v.forEach((x, i) => dv.setFloat32(i * 4, x, true));
  return out;
}

function i64Bytes(v: Int32Array): Uint8Array {
  const out = new Uint8Array(v.length * 8);
  const dv = new DataView(out.buffer);
  v.forEach((x, i) => dv.setBigInt64(i * 8, BigInt(x), true));
  return out;
}

/** One obj36 line (ending with `\n`) that parseObj36Line reads back as `img`. */
export function formatObj36Line(img: Obj36Image): string {
  const n = img.numBoxes;
  if (!/^[^\t\r\n]+$/.test(img.imgId)) {
    throw new InputError(
      'imgId',
      'a non-empty id without tabs or line ends',
      JSON.stringify(img.imgId),
    );
  }
  const sizes: [string, number, number][] = [
    ['objectsId', img.objectsId.length, n],
    ['objectsConf', img.objectsConf.length, n],
    ['attrsId', img.attrsId.length, n],
    ['attrsConf', img.attrsConf.length, n],
    ['boxes', img.boxes.length, n * 4],
    ['features', img.features.length, n * img.featureDim],
  ];
  for (const [name, got, want] of sizes) {
    if (got !== want) throw new InputError(name, `${want} values (numBoxes ${n})`, `${got}`);
  }
  return (
    [
      img.imgId,
      String(img.imgH),
      String(img.imgW),
      base64(i64Bytes(img.objectsId)),
      base64(f32Bytes(img.objectsConf)),
      base64(i64Bytes(img.attrsId)),
      base64(f32Bytes(img.attrsConf)),
      String(n),
      base64(f32Bytes(img.boxes)),
      base64(f32Bytes(img.features)),
    ].join('\t') + '\n'
  );
}
