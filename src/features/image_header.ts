/**
 * Width and height of a PNG or JPEG from its first bytes, without decoding: the pixel limit is
 * enforced before any pixel buffer is allocated. Browser-safe.
 */
import { ImageError } from '../errors.js';

/** Images larger than this many pixels are refused (the default of `maxPixels`). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

export type ImageFormat = 'png' | 'jpeg';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
  /** PNG: 1, 2, 4, 8 or 16 bits per sample; JPEG: sample precision (8 for baseline). */
  bitDepth: number;
  /** PNG colour type (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA); JPEG: components. */
  colorType: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && PNG_SIGNATURE.every((v, i) => b[i] === v);
}

export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

function describeStart(b: Uint8Array): string {
  if (b.length === 0) return 'an empty file';
  const hex = Array.from(b.subarray(0, 8), (v) => v.toString(16).padStart(2, '0')).join(' ');
  return `${b.length} bytes starting ${hex}`;
}

function pngHeader(b: Uint8Array, argument: string): ImageHeader {
  // signature (8), IHDR length (4) = 13, 'IHDR' (4), width, height, depth, colour type …
  if (b.length < 33) {
    throw new ImageError(argument, 'a PNG with a complete IHDR chunk', `${b.length} bytes`);
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const tag = String.fromCharCode(b[12], b[13], b[14], b[15]);
  if (dv.getUint32(8) !== 13 || tag !== 'IHDR') {
    throw new ImageError(argument, 'a PNG starting with its IHDR chunk', `chunk '${tag}'`);
  }
  return {
    format: 'png',
    width: dv.getUint32(16),
    height: dv.getUint32(20),
    bitDepth: b[24],
    colorType: b[25],
  };
}

/** Start-of-frame markers: C0–CF except DHT (C4), JPG (C8) and DAC (CC). */
function isSof(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

function jpegHeader(b: Uint8Array, argument: string): ImageHeader {
  let p = 2;
  while (p < b.length) {
    if (b[p] !== 0xff) {
      throw new ImageError(argument, 'a JPEG marker (0xFF)', `byte 0x${b[p].toString(16)} at ${p}`);
    }
    while (p < b.length && b[p] === 0xff) p++; // fill bytes
    if (p >= b.length) break;
    const m = b[p++];
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue; // no payload
    if (m === 0xd9 || m === 0xda) break; // end of image / start of scan before any frame
    if (p + 2 > b.length) break;
    const len = (b[p] << 8) | b[p + 1];
    if (len < 2) throw new ImageError(argument, 'JPEG segment lengths >= 2', `${len} at ${p}`);
    if (isSof(m)) {
      if (p + 8 > b.length) break;
      const height = (b[p + 3] << 8) | b[p + 4];
      if (height === 0) {
        throw new ImageError(
          argument,
          'a JPEG with its height in the frame header',
          'height 0 (DNL)',
        );
      }
      return {
        format: 'jpeg',
        width: (b[p + 5] << 8) | b[p + 6],
        height,
        bitDepth: b[p + 2],
        colorType: b[p + 7],
      };
    }
    p += len;
  }
  throw new ImageError(argument, 'a JPEG with a frame header (SOF)', 'none before the data ends');
}

/** Read format, size and colour model from the first bytes of a PNG or JPEG. */
export function readImageHeader(bytes: Uint8Array, argument = 'image'): ImageHeader {
  if (!(bytes instanceof Uint8Array)) {
    throw new ImageError(argument, 'the bytes of a PNG or JPEG (Uint8Array)', typeof bytes);
  }
  if (isPng(bytes)) return pngHeader(bytes, argument);
  if (isJpeg(bytes)) return jpegHeader(bytes, argument);
  throw new ImageError(argument, 'a PNG or JPEG image', describeStart(bytes));
}

/** Refuse zero-size images and those over `maxPixels` (from the header, before decoding). */
export function checkImageSize(
  width: number,
  height: number,
  maxPixels: number | undefined,
  argument: string,
): void {
  const limit = maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(Number.isSafeInteger(limit) && limit > 0)) {
    throw new ImageError('maxPixels', 'a positive integer', String(maxPixels));
  }
  if (!(Number.isSafeInteger(width) && Number.isSafeInteger(height)) || width <= 0 || height <= 0) {
    throw new ImageError(argument, 'an image of at least 1x1 pixels', `${width}x${height}`);
  }
  if (width * height > limit) {
    throw new ImageError(
      argument,
      `at most ${limit} pixels (maxPixels; --max-pixels on the command line)`,
      `${width}x${height} = ${width * height} pixels`,
    );
  }
}
