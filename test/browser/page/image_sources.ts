/**
 * Browser half of test/browser/image_sources.test.ts (issue 9 item 4): frcnn-narrow's img_a.png
 * through imageToRgba from every browser image source — File, Blob, HTMLImageElement,
 * ImageBitmap, ImageData, HTMLCanvasElement, OffscreenCanvas, VideoFrame — against the same
 * bytes decoded by our PNG decoder (fast-png, no browser involved). The test calls
 * window.imageSources() through Playwright.
 */
import { decodeImage, imageToRgba, type ImageInput } from '../../../src/features/image.js';

export interface SourceReport {
  source: string;
  width: number;
  height: number;
  /** Largest per-byte difference from the reference RGBA; -1 when the sizes differ. */
  maxDiff: number;
  error?: string;
}

export interface ImageSourcesReport {
  sources: SourceReport[];
  /** imageToRgba's messages for a broken <img> and one still loading. */
  brokenImg: string;
  loadingImg: string;
}

async function imageSources(): Promise<ImageSourcesReport> {
  const r = await fetch('/test/fixtures/frcnn-narrow/img_a.png');
  const bytes = new Uint8Array(await r.arrayBuffer());
  const ref = decodeImage(bytes);
  const blob = new Blob([bytes as BlobPart], { type: 'image/png' });
  const url = URL.createObjectURL(blob);
  const img = new Image();
  img.src = url;
  await img.decode();
  const bitmap = await createImageBitmap(blob, {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
  });
  const canvas = document.createElement('canvas');
  [canvas.width, canvas.height] = [bitmap.width, bitmap.height];
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
  const offscreen = new OffscreenCanvas(bitmap.width, bitmap.height);
  offscreen.getContext('2d')!.drawImage(bitmap, 0, 0);
  const imageData = canvas.getContext('2d')!.getImageData(0, 0, bitmap.width, bitmap.height);
  const frame = new VideoFrame(bitmap, { timestamp: 0 });
  const sources: [string, ImageInput][] = [
    ['File', new File([bytes as BlobPart], 'img_a.png', { type: 'image/png' })],
    ['Blob', blob],
    ['HTMLImageElement', img],
    ['ImageBitmap', bitmap],
    ['ImageData', imageData],
    ['HTMLCanvasElement', canvas],
    ['OffscreenCanvas', offscreen],
    ['VideoFrame', frame],
  ];
  const out: SourceReport[] = [];
  for (const [source, input] of sources) {
    try {
      const got = await imageToRgba(input);
      let maxDiff = -1;
      if (got.width === ref.width && got.height === ref.height) {
        maxDiff = 0;
        for (let i = 0; i < ref.data.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(got.data[i] - ref.data[i]));
        }
      }
      out.push({ source, width: got.width, height: got.height, maxDiff });
    } catch (e) {
      out.push({ source, width: 0, height: 0, maxDiff: -1, error: String(e) });
    }
  }
  frame.close();
  const message = async (input: ImageInput) =>
    imageToRgba(input).then(
      () => 'no error',
      (e: Error) => `${e.name}: ${e.message}`,
    );
  const broken = new Image();
  broken.src = 'data:image/png;base64,AAAA';
  await broken.decode().catch(() => undefined);
  const loading = new Image(); // a fresh URL: not complete until the next task at the earliest
  const loadingUrl = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'image/png' }));
  loading.src = loadingUrl;
  const loadingImg = await message(loading);
  URL.revokeObjectURL(loadingUrl);
  URL.revokeObjectURL(url);
  return { sources: out, brokenImg: await message(broken), loadingImg };
}

(window as unknown as { imageSources: typeof imageSources }).imageSources = imageSources;
