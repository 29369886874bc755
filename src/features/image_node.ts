/**
 * Node: read a PNG or JPEG file into 8-bit RGBA. Only the first bytes are read to check the
 * format and the pixel limit; the file is read whole only when it passes.
 */
import { open } from 'node:fs/promises';
import { ImageError } from '../errors.js';
import { decodeImage, type DecodeImageOptions, type RgbaImage } from './image_decode.js';
import { checkImageSize, readImageHeader } from './image_header.js';

/** Bytes read to find a JPEG's frame header (EXIF and ICC segments come before it). */
const HEADER_BYTES = 1 << 20;

export async function readImageFile(
  path: string,
  options: DecodeImageOptions = {},
): Promise<RgbaImage> {
  const argument = options.argument ?? path;
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new ImageError(
      argument,
      'a readable PNG or JPEG file',
      `${(e as NodeJS.ErrnoException).code}`,
    );
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new ImageError(argument, 'a PNG or JPEG file', 'not a regular file');
    const head = new Uint8Array(Math.min(st.size, HEADER_BYTES));
    await fh.read(head, 0, head.length, 0);
    const h = readImageHeader(head, argument);
    checkImageSize(h.width, h.height, options.maxPixels, argument);
    const bytes = new Uint8Array(st.size);
    let done = 0;
    while (done < st.size) {
      const { bytesRead } = await fh.read(bytes, done, st.size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return decodeImage(bytes.subarray(0, done), { ...options, argument });
  } finally {
    await fh.close();
  }
}
