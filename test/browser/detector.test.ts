/**
 * The narrow detector end to end on WebGPU in headless Chromium (Debian's chromium, SwiftShader
 * adapter): img_a decoded by the browser, GeneralizedRCNN → the 36 regions, against Hugging
 * Face's goldens (proposals and detections matched as sets, cases.json's end_to_end tolerances).
 * A Vite dev server on 127.0.0.1 serves test/browser/page; Playwright drives the page. Skipped
 * when /usr/bin/chromium is missing (LXMERT_REQUIRE_WEBGPU=1 makes that a failure).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectorReport } from './page/detector.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '..', '..');
const ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** res5 over 300 regions on SwiftShader takes minutes on a loaded 2-core machine. */
const TIMEOUT_MS = 900_000;

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
    // A dependency cache of its own: test files run in parallel, and a shared cache that one
    // server re-optimizes breaks another's imports ('Failed to fetch dynamically imported module').
    cacheDir: 'node_modules/.vite-test-browser-detector',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    optimizeDeps: { entries: ['test/browser/page/detector.ts'] },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('vite: no address');
  url = `http://127.0.0.1:${address.port}/test/browser/page/detector.html`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.skipIf(!available)('headless Chromium, WebGPU (SwiftShader): the detector', () => {
  it(
    "frcnn-narrow img_a: the browser-decoded PNG → the 36 regions match HF's",
    async () => {
      const page = await browser!.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url);
      await page.waitForFunction(() => 'frcnnEndToEnd' in window, undefined, { timeout: 60_000 });
      page.setDefaultTimeout(TIMEOUT_MS);
      const report = (await page.evaluate(
        (image) =>
          (
            window as unknown as { frcnnEndToEnd: (i: string) => Promise<DetectorReport> }
          ).frcnnEndToEnd(image),
        'img_a',
      )) as DetectorReport;
      console.log(
        `browser detector: ${report.backend} (${report.reason}); ${report.numDetections} ` +
          `detections, ${report.dispatches} dispatches, ${(report.ms / 1000).toFixed(1)} s`,
      );
      expect(errors).toEqual([]);
      expect(report.backend).toBe('webgpu');
      expect(report.failures).toEqual([]);
      expect(report.leaked).toBe(0);
      await page.close();
    },
    TIMEOUT_MS,
  );
});
