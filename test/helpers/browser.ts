/**
 * Headless Chromium for the browser tests (Debian's chromium; its SwiftShader is the WebGPU
 * adapter, see ../shared/GPU.md) and the Vite dev server that serves a test page to it.
 *
 *   const available = CHROMIUM_AVAILABLE;
 *   let served: ServedPage | null = null;
 *   beforeAll(async () => {
 *     if (!available) return;
 *     served = await servePage({ page: 'test/x/page/index.html', entries: ['test/x/page/main.ts'], cache: 'x' });
 *   });
 *   afterAll(() => served?.close());
 *   describe.skipIf(!available)('…', () => { … const { page, errors } = await served!.open('ready'); … });
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { embedWgslPlugin } from '../../scripts/embed-wgsl.mjs';
import { ROOT } from './cli.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Browser tests skip without Chromium; CI sets LXMERT_REQUIRE_WEBGPU=1 to make that a failure. */
export const CHROMIUM_AVAILABLE = existsSync(CHROMIUM);
if (!CHROMIUM_AVAILABLE && process.env.LXMERT_REQUIRE_WEBGPU === '1') {
  throw new Error(`LXMERT_REQUIRE_WEBGPU=1 but ${CHROMIUM} is missing`);
}

const COMMON = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** No WebGPU adapter: 'auto' falls back to WASM. */
export const NO_WEBGPU = [...COMMON, '--headless', '--disable-gpu'];
/** WebGPU on SwiftShader. */
export const SWIFTSHADER_WEBGPU = [
  ...COMMON,
  '--headless=new',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
];

export function launchChromium(args: string[] = SWIFTSHADER_WEBGPU): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args });
}

export interface ServePageOptions {
  /** The page, from the repository root: 'test/browser/page/index.html'. */
  page: string;
  /** The modules whose dependencies Vite pre-bundles at start (the page's script, its workers). */
  entries: string[];
  /**
   * The dependency cache of this test file, node_modules/.vite-test-<cache>. One per file: test
   * files run in parallel, and a shared cache that one server re-optimizes breaks another's
   * imports ('Failed to fetch dynamically imported module').
   */
  cache: string;
  /** Serve with the project's vite.config.ts (COOP/COEP, the wasm threads plugin); default none. */
  projectConfig?: boolean;
  /** Chromium's flags; default SWIFTSHADER_WEBGPU. */
  args?: string[];
}

export interface OpenedPage {
  page: Page;
  /** Uncaught errors of the page, as they come. */
  errors: string[];
}

export interface ServedPage {
  url: string;
  browser: Browser;
  /**
   * A new tab on the page, once `window[ready]` exists. LXMERT_PAGE_LOG=1 echoes its console.
   */
  open(ready: string, timeoutMs?: number): Promise<OpenedPage>;
  close(): Promise<void>;
}

/** A Vite dev server on 127.0.0.1 serving `page` from the repository root, and Chromium. */
export async function servePage(o: ServePageOptions): Promise<ServedPage> {
  const server: ViteDevServer = await createServer({
    root: ROOT,
    configFile: o.projectConfig ? join(ROOT, 'vite.config.ts') : false,
    plugins: o.projectConfig ? [] : [embedWgslPlugin()],
    logLevel: 'error',
    cacheDir: `node_modules/.vite-test-${o.cache}`,
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    optimizeDeps: { entries: o.entries },
  });
  let port: number;
  let browser: Browser;
  try {
    await server.listen();
    const address = server.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('vite: no address');
    port = address.port;
    browser = await launchChromium(o.args);
  } catch (e) {
    await server.close();
    throw e;
  }
  const url = `http://127.0.0.1:${port}/${o.page}`;
  return {
    url,
    browser,
    async open(ready, timeoutMs = 60_000) {
      const page = await browser.newPage();
      if (process.env.LXMERT_PAGE_LOG) page.on('console', (m) => console.log(`page: ${m.text()}`));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url, { timeout: timeoutMs });
      await page.waitForFunction((name) => name in window, ready, { timeout: timeoutMs });
      return { page, errors };
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
