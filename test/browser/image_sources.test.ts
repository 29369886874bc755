/**
 * Every browser image source of issue 9 item 4 through imageToRgba in headless Chromium (Debian's
 * chromium): File, Blob, HTMLImageElement, ImageBitmap, ImageData, HTMLCanvasElement,
 * OffscreenCanvas and VideoFrame give frcnn-narrow's img_a.png byte for byte as our own PNG
 * decoder does; a broken or still-loading <img> is an ImageError naming what was expected.
 * Skipped when /usr/bin/chromium is missing (LXMERT_REQUIRE_WEBGPU=1 makes that a failure).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_AVAILABLE, NO_WEBGPU, servePage, type ServedPage } from '../helpers/browser.js';
import type { ImageSourcesReport } from './page/image_sources.js';

let served: ServedPage | null = null;

beforeAll(async () => {
  if (!CHROMIUM_AVAILABLE) return;
  served = await servePage({
    page: 'test/browser/page/image_sources.html',
    entries: ['test/browser/page/image_sources.ts'],
    cache: 'browser-image-sources',
    args: NO_WEBGPU,
  });
}, 120_000);

afterAll(() => served?.close());

describe.skipIf(!CHROMIUM_AVAILABLE)('headless Chromium: image sources', () => {
  it('every source gives the PNG decoder’s RGBA; broken and loading <img> are refused', async () => {
    const { page, errors } = await served!.open('imageSources');
    const report = (await page.evaluate(() =>
      (window as unknown as { imageSources: () => Promise<ImageSourcesReport> }).imageSources(),
    )) as ImageSourcesReport;
    await page.close();
    expect(errors).toEqual([]);
    expect(report.sources.map((s) => s.source)).toEqual([
      'File',
      'Blob',
      'HTMLImageElement',
      'ImageBitmap',
      'ImageData',
      'HTMLCanvasElement',
      'OffscreenCanvas',
      'VideoFrame',
    ]);
    for (const s of report.sources) {
      expect([s.source, s.error, s.width, s.height, s.maxDiff]).toEqual([
        s.source,
        undefined,
        320,
        240,
        0,
      ]);
    }
    expect(report.brokenImg).toMatch(/^ImageError: .*an <img> that loaded an image/);
    expect(report.loadingImg).toMatch(/^ImageError: .*a loaded <img>/);
  }, 180_000);
});
