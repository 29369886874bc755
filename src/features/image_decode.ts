/**
 * PNG and JPEG bytes → 8-bit RGBA, with `fast-png` and `jpeg-js` (pure JavaScript, so this
 * works in Node and in browsers alike). The header is read first: zero-size images and images
 * over the pixel limit are refused before anything is decoded.
 *
 * Colour models are converted the way PIL's `convert('RGB')` (what Hugging Face's demo feeds
 * its detector) does: gray is replicated to R = G = B; 16-bit samples are rounded to 8 bits
 * (v / 257); palette entries are looked up; alpha is kept in the A channel but the detector
 * reads only R, G, B (no compositing onto a background). CMYK/YCCK JPEGs (Adobe APP14) are
 * converted to RGB by jpeg-js; 4-component JPEGs without the Adobe marker are refused.
 */
import { decode as decodePngBytes, convertIndexedToRgb, type DecodedPng } from 'fast-png';
import jpeg from 'jpeg-js';
import { ImageError } from '../errors.js';
import { checkImageSize, readImageHeader, type ImageHeader } from './image_header.js';

/** An 8-bit RGBA image, row-major, 4 bytes per pixel (the layout of ImageData). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

export interface DecodeImageOptions {
  /** Refuse images with more pixels than this (from the header); default 50 000 000. */
  maxPixels?: number;
  /** Name of the input in errors; default `image`. */
  argument?: string;
}

const PNG_COLOR_TYPES: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

function checkPngModel(h: ImageHeader, argument: string): void {
  const depths = PNG_COLOR_TYPES[h.colorType];
  if (!depths || !depths.includes(h.bitDepth)) {
    throw new ImageError(
      argument,
      'a PNG colour type 0, 2, 3, 4 or 6 with a bit depth the PNG spec allows for it',
      `colour type ${h.colorType}, bit depth ${h.bitDepth}`,
    );
  }
}

/** Sample `i` of a row-packed buffer of `depth`-bit samples (rows padded to whole bytes). */
function unpacked(png: DecodedPng): Uint8Array {
  const { width, height, depth } = png;
  const data = png.data as Uint8Array;
  const out = new Uint8Array(width * height);
  const perByte = 8 / depth;
  const rowBytes = Math.ceil(width / perByte);
  const maxV = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = data[y * rowBytes + Math.floor(x / perByte)];
      const shift = 8 - depth * ((x % perByte) + 1);
      out[y * width + x] = Math.round((((byte >> shift) & maxV) * 255) / maxV);
    }
  }
  return out;
}

function pngToRgba(bytes: Uint8Array, argument: string): RgbaImage {
  let png: DecodedPng;
  try {
    png = decodePngBytes(bytes, { checkCrc: true });
  } catch (e) {
    throw new ImageError(
      argument,
      'a complete, valid PNG',
      `a decoding error (${(e as Error).message})`,
    );
  }
  const { width, height, channels, depth } = png;
  const n = width * height;
  if (depth >= 8 && png.data.length < n * channels) {
    throw new ImageError(argument, `${n * channels} samples`, `${png.data.length} (truncated)`);
  }
  const out = new Uint8Array(n * 4);
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    const c = rgb.length / n; // 3, or 4 with tRNS
    for (let i = 0; i < n; i++) {
      out[i * 4] = rgb[i * c];
      out[i * 4 + 1] = rgb[i * c + 1];
      out[i * 4 + 2] = rgb[i * c + 2];
      out[i * 4 + 3] = c === 4 ? rgb[i * c + 3] : 255;
    }
    return { width, height, data: out };
  }
  // Samples as 8-bit values: 16-bit rounds to nearest (v / 257), 1/2/4-bit gray scales up.
  let s: ArrayLike<number>;
  if (depth === 16) {
    const d = png.data as Uint16Array;
    const b = new Uint8Array(d.length);
    for (let i = 0; i < d.length; i++) b[i] = Math.round(d[i] / 257);
    s = b;
  } else if (depth < 8) {
    s = unpacked(png);
  } else {
    s = png.data;
  }
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    const k = i * channels;
    if (channels <= 2) {
      out[o] = out[o + 1] = out[o + 2] = s[k];
      out[o + 3] = channels === 2 ? s[k + 1] : 255;
    } else {
      out[o] = s[k];
      out[o + 1] = s[k + 1];
      out[o + 2] = s[k + 2];
      out[o + 3] = channels === 4 ? s[k + 3] : 255;
    }
  }
  return { width, height, data: out };
}

function jpegToRgba(bytes: Uint8Array, h: ImageHeader, argument: string): RgbaImage {
  if (h.bitDepth !== 8) {
    throw new ImageError(argument, 'an 8-bit JPEG', `${h.bitDepth}-bit samples`);
  }
  if (![1, 3, 4].includes(h.colorType)) {
    throw new ImageError(argument, 'a JPEG with 1, 3 or 4 components', `${h.colorType} components`);
  }
  try {
    const img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      tolerantDecoding: false,
      // The limit was checked from the header; this is only jpeg-js's own guard.
      maxResolutionInMP: Math.ceil((h.width * h.height) / 1e6) + 1,
      maxMemoryUsageInMB: Math.ceil((h.width * h.height * 8) / 2 ** 20) + 64,
    });
    if (img.width !== h.width || img.height !== h.height) {
      throw new Error(`decoded ${img.width}x${img.height}, header says ${h.width}x${h.height}`);
    }
    return { width: img.width, height: img.height, data: img.data };
  } catch (e) {
    const msg = (e as Error).message;
    if (/4 components/.test(msg)) {
      throw new ImageError(
        argument,
        'a CMYK JPEG with an Adobe APP14 marker (the only 4-component JPEGs we can convert)',
        '4 components without it',
      );
    }
    throw new ImageError(argument, 'a complete, valid JPEG', `a decoding error (${msg})`);
  }
}

/** Decode PNG or JPEG bytes into 8-bit RGBA. */
export function decodeImage(bytes: Uint8Array, options: DecodeImageOptions = {}): RgbaImage {
  const argument = options.argument ?? 'image';
  const h = readImageHeader(bytes, argument);
  checkImageSize(h.width, h.height, options.maxPixels, argument);
  if (h.format === 'png') {
    checkPngModel(h, argument);
    return pngToRgba(bytes, argument);
  }
  return jpegToRgba(bytes, h, argument);
}

/** Check a caller-made RgbaImage: positive integer sizes, 4 bytes per pixel. */
export function validateRgbaImage(image: RgbaImage, options: DecodeImageOptions = {}): RgbaImage {
  const argument = options.argument ?? 'image';
  if (typeof image !== 'object' || image === null) {
    throw new ImageError(argument, 'an RGBA image {width, height, data}', String(image));
  }
  const { width, height, data } = image;
  checkImageSize(width, height, options.maxPixels, argument);
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new ImageError(
      `${argument}.data`,
      'a Uint8Array or Uint8ClampedArray (RGBA)',
      typeof data,
    );
  }
  if (data.length !== width * height * 4) {
    throw new ImageError(
      `${argument}.data`,
      `width × height × 4 = ${width * height * 4} bytes (8-bit RGBA)`,
      `${data.length} bytes`,
    );
  }
  return image;
}
