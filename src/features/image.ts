/**
 * Browser image sources → 8-bit RGBA for the detector: `File`/`Blob` (PNG or JPEG bytes, decoded
 * by image_decode.ts so the pixel limit applies before decoding; other formats the browser
 * knows go through createImageBitmap), `HTMLImageElement`, `ImageBitmap`, `ImageData`,
 * `HTMLCanvasElement`/`OffscreenCanvas`, `VideoFrame`, or an RgbaImage. Drawn sources are read
 * back through an OffscreenCanvas's getImageData (no colour-space conversion where the browser
 * lets us say so). Browser-safe: no node: imports.
 */
import { ImageError } from '../errors.js';
import {
  decodeImage,
  validateRgbaImage,
  type DecodeImageOptions,
  type RgbaImage,
} from './image_decode.js';
import { checkImageSize, isJpeg, isPng } from './image_header.js';

export { decodeImage, validateRgbaImage } from './image_decode.js';
export type { DecodeImageOptions, RgbaImage } from './image_decode.js';
export { readImageHeader, checkImageSize, DEFAULT_MAX_PIXELS } from './image_header.js';
export type { ImageHeader, ImageFormat } from './image_header.js';

/** Anything imageToRgba takes. */
export type ImageInput =
  | RgbaImage
  | ImageData
  | Blob
  | ImageBitmap
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | VideoFrame
  | Uint8Array;

type Drawable = CanvasImageSource & { width?: number; height?: number };

function has(name: string): boolean {
  return typeof (globalThis as Record<string, unknown>)[name] === 'function';
}

function isA<T>(v: unknown, ctor: string): v is T {
  const C = (globalThis as Record<string, unknown>)[ctor];
  return typeof C === 'function' && v instanceof (C as new () => unknown);
}

/** Natural size of a drawable source. */
function sizeOf(src: Drawable): [number, number] {
  if (isA<HTMLImageElement>(src, 'HTMLImageElement')) return [src.naturalWidth, src.naturalHeight];
  if (isA<VideoFrame>(src, 'VideoFrame')) return [src.displayWidth, src.displayHeight];
  return [Number(src.width), Number(src.height)];
}

/** Draw a source onto an OffscreenCanvas of its size and read the RGBA pixels back. */
function readPixels(src: Drawable, options: DecodeImageOptions): RgbaImage {
  const argument = options.argument ?? 'image';
  const [w, h] = sizeOf(src);
  checkImageSize(w, h, options.maxPixels, argument);
  if (!has('OffscreenCanvas')) {
    throw new ImageError(argument, 'a runtime with OffscreenCanvas (to read pixels)', 'none');
  }
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' });
  if (!ctx) throw new ImageError(argument, 'a 2d canvas context', 'getContext returned null');
  ctx.drawImage(src, 0, 0, w, h);
  const data = ctx.getImageData(0, 0, w, h).data;
  return { width: w, height: h, data };
}

async function fromBlob(blob: Blob, options: DecodeImageOptions): Promise<RgbaImage> {
  const argument = options.argument ?? 'image';
  const head = new Uint8Array(await blob.slice(0, 16).arrayBuffer());
  if (isPng(head) || isJpeg(head)) {
    return decodeImage(new Uint8Array(await blob.arrayBuffer()), options);
  }
  if (!has('createImageBitmap')) {
    throw new ImageError(
      argument,
      'a PNG or JPEG file',
      `a ${blob.type || 'file'} of another kind`,
    );
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, {
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
  } catch (e) {
    throw new ImageError(
      argument,
      'an image file the browser can decode',
      `${blob.type || 'unknown type'} (${(e as Error).message})`,
    );
  }
  try {
    return readPixels(bitmap, options);
  } finally {
    bitmap.close();
  }
}

/**
 * Any image source → RgbaImage. `ImageData` and RgbaImage are used as they are (checked);
 * bytes and Blobs are decoded; everything else is drawn and read back.
 */
export async function imageToRgba(
  source: ImageInput,
  options: DecodeImageOptions = {},
): Promise<RgbaImage> {
  const argument = options.argument ?? 'image';
  if (source instanceof Uint8Array) return decodeImage(source, options);
  if (isA<Blob>(source, 'Blob')) return fromBlob(source, options);
  if (isA<HTMLImageElement>(source, 'HTMLImageElement')) {
    if (!source.complete) {
      throw new ImageError(argument, 'a loaded <img> (await img.decode())', 'one still loading');
    }
    if (source.naturalWidth === 0) {
      throw new ImageError(argument, 'an <img> that loaded an image', 'a broken or empty <img>');
    }
    return readPixels(source, options);
  }
  if (
    isA<ImageBitmap>(source, 'ImageBitmap') ||
    isA<HTMLCanvasElement>(source, 'HTMLCanvasElement') ||
    isA<OffscreenCanvas>(source, 'OffscreenCanvas') ||
    isA<VideoFrame>(source, 'VideoFrame')
  ) {
    return readPixels(source as Drawable, options);
  }
  if (typeof source === 'object' && source !== null && 'data' in source) {
    const img = source as RgbaImage;
    return validateRgbaImage({ width: img.width, height: img.height, data: img.data }, options);
  }
  throw new ImageError(
    argument,
    'a File/Blob, HTMLImageElement, ImageBitmap, ImageData, canvas, VideoFrame, PNG/JPEG bytes or {width, height, data}',
    source === null ? 'null' : typeof source,
  );
}
