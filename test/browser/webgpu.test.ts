/**
 * The whole model on WebGPU in headless Chromium (Debian's chromium, SwiftShader adapter, see
 * ../shared/GPU.md) against Hugging Face's goldens: a Vite dev server on 127.0.0.1 serves
 * test/browser/page, Playwright drives the page. Skipped when /usr/bin/chromium is missing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParityReport } from './page/main.js';

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
    cacheDir: 'node_modules/.vite-test-browser-webgpu',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    optimizeDeps: { entries: ['test/browser/page/main.ts'] },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('vite: no address');
  url = `http://127.0.0.1:${address.port}/test/browser/page/index.html`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.skipIf(!available)('headless Chromium, WebGPU (SwiftShader)', () => {
  it('lxmert-tiny-sharp: every output of every case matches the goldens', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => 'lxmertParity' in window, undefined, { timeout: 60_000 });
    const report = (await page.evaluate(
      ([model, bound]) =>
        (
          window as unknown as {
            lxmertParity: (m: string, b: number) => Promise<ParityReport>;
          }
        ).lxmertParity(model, bound),
      ['lxmert-tiny-sharp', 1e-4] as [string, number],
    )) as ParityReport;
    console.log(
      `browser: ${report.backend} (${report.reason}); ${report.outputs} outputs, worst rel_l2 ` +
        `${report.worstRelL2.toExponential(2)}, ${report.dispatches} dispatches per forward`,
    );
    expect(errors).toEqual([]);
    expect(report.backend).toBe('webgpu');
    expect(report.cases).toBe(3);
    expect(report.failures).toEqual([]);
    expect(report.leaked).toBe(0);
    await page.close();
  });
});
