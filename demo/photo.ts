/**
 * Getting a photo into the page: drop, pick, paste, camera (a capture file input), or a URL
 * (`?image=`). The bytes are untrusted: size and type are checked before decoding, and the
 * decoded size before anything is allocated for it.
 */
import { InputError } from '../src/errors.js';

/** Largest photo file accepted (bytes) and largest decoded photo (pixels). */
export const MAX_PHOTO_BYTES = 50 * 1024 * 1024;
export const MAX_PHOTO_PIXELS = 64 * 1024 * 1024;

export interface Photo {
  bitmap: ImageBitmap;
  /** The file's bytes: the detector decodes these itself (PNG/JPEG as in Node). */
  blob: Blob;
  /** Where it came from, for the status line. */
  name: string;
}

export async function decodePhoto(blob: Blob, name: string): Promise<Photo> {
  if (blob.size > MAX_PHOTO_BYTES) {
    throw new InputError(
      'photo',
      `at most ${MAX_PHOTO_BYTES / 1048576} MiB`,
      `${name}: ${blob.size} bytes`,
    );
  }
  if (blob.type && !blob.type.startsWith('image/')) {
    throw new InputError('photo', 'an image (PNG, JPEG, WebP, …)', `${name}: ${blob.type}`);
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch (e) {
    throw new InputError('photo', 'a decodable image', `${name}: ${(e as Error).message}`);
  }
  if (bitmap.width * bitmap.height > MAX_PHOTO_PIXELS) {
    const size = `${bitmap.width}×${bitmap.height}`;
    bitmap.close();
    throw new InputError('photo', `at most ${MAX_PHOTO_PIXELS} pixels`, `${name}: ${size}`);
  }
  return { bitmap, blob, name };
}

export async function fetchPhoto(url: string): Promise<Photo> {
  const res = await fetch(new URL(url, location.href));
  if (!res.ok)
    throw new InputError('image', 'a reachable image URL', `HTTP ${res.status} for ${url}`);
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_PHOTO_BYTES) {
    throw new InputError('image', `at most ${MAX_PHOTO_BYTES / 1048576} MiB`, `${declared} bytes`);
  }
  return decodePhoto(await res.blob(), url);
}

/** The first image among dropped or pasted items. */
export function imageFrom(data: DataTransfer | null): File | null {
  for (const f of data?.files ?? []) if (f.type.startsWith('image/')) return f;
  return null;
}

/** Draw the photo into `canvas` at its own size (the CSS scales it to the page). */
export function showPhoto(canvas: HTMLCanvasElement, bitmap: ImageBitmap): void {
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
}
