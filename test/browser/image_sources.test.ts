/**
 * Every browser image source of issue 9 item 4 through imageToRgba in headless Chromium (Debian's
 * chromium): File, Blob, HTMLImageElement, ImageBitmap, ImageData, HTMLCanvasElement,
 * OffscreenCanvas and VideoFrame give frcnn-narrow's img_a.png byte for byte as our own PNG
 * decoder does; a broken or still-loading <img> is an ImageError naming what was expected. A
 * Vite dev server on 127.0.0.1 serves test/browser/page; Playwright drives the page. Skipped
 * when /usr/bin/chromium is missing (LXMERT_REQUIRE_WEBGPU=1 makes that a failure).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageSourcesReport } from './page/image_sources.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '..', '..');
const ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const available = existsSync(CHROMIUM);
if (!available && process.env.LXMERT_REQUIRE_WEBGPU === '1') {
  throw new Error(`LXMERT_REQUIRE_WEBGPU=1 but ${CHROMIUM} is missing`);
}
let server: ViteDevServer | null = null;
let browser: Browser | null = null;
let url = '';

beforeAll(async () => {
  if (!available) return;
  server = await createServer({
    root: ROOT,
    configFile: false,
    logLevel: 'error',
    cacheDir: 'node_modules/.vite-test-browser-image-sources',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    optimizeDeps: { entries: ['test/browser/page/image_sources.ts'] },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('vite: no address');
  url = `http://127.0.0.1:${address.port}/test/browser/page/image_sources.html`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.skipIf(!available)('headless Chromium: image sources', () => {
  it('every source gives the PNG decoder’s RGBA; broken and loading <img> are refused', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => 'imageSources' in window, undefined, { timeout: 60_000 });
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
