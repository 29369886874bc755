/**
 * The demo as a visitor gets it: `vite build` with the project's vite.config.ts (the PWA plugin
 * included) into a temp folder, converted models copied under its weights/, served as a static
 * site from 127.0.0.1 (no COOP/COEP headers), opened in Debian's headless Chromium.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { ROOT } from '../helpers/cli.js';
import { serveStatic, type StaticServer } from './server.js';

export interface Site {
  dir: string;
  url: string;
  close(): Promise<void>;
}

/** Build the demo into a temp folder; `prepare(dir)` adds model folders before serving. */
export async function buildSite(prepare: (dir: string) => Promise<void>): Promise<Site> {
  const tmp = mkdtempSync(join(tmpdir(), 'lxmert-demo-'));
  const dir = join(tmp, 'dist');
  // Vitest sets NODE_ENV=test, which would make Vite build a development bundle (no service
  // worker registration): build as `vite build` on the command line does.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      root: ROOT,
      configFile: join(ROOT, 'vite.config.ts'),
      mode: 'production',
      logLevel: 'error',
      build: { outDir: dir, emptyOutDir: true },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  // Model folders go under weights/ (the converter wants an existing parent folder).
  mkdirSync(join(dir, 'weights'), { recursive: true });
  await prepare(dir);
  const server: StaticServer = await serveStatic(dir);
  return {
    dir,
    url: server.url,
    close: async () => {
      await server.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export interface OpenPage {
  page: Page;
  context: BrowserContext;
  errors: string[];
}

/**
 * Open `url` in a fresh context (a first visit) and wait until the page is ready: the service
 * worker installed and the one reload into cross-origin isolation done.
 */
export async function openPage(browser: Browser, url: string, width = 900): Promise<OpenPage> {
  const context = await browser.newContext({ viewport: { width, height: 1000 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return { page, context, errors };
}

export interface ShownAnswers {
  answers: string[];
  labelIds: number[];
  scores: number[];
}

/** Wait for an answer (or an error) and read the answers the page shows. */
export async function readAnswers(page: Page, timeout = 60_000): Promise<ShownAnswers> {
  await page.waitForSelector('body[data-answer="done"], body[data-answer="error"]', { timeout });
  const err = await page.getAttribute('body', 'data-error');
  if (err !== null) throw new Error(`the page shows an error: ${err}`);
  const items = page.getByTestId('answer');
  const data = await items.evaluateAll((li) =>
    li.map((x) => [(x as HTMLElement).dataset.labelId, (x as HTMLElement).dataset.score]),
  );
  return {
    answers: await items.locator('.answer').allInnerTexts(),
    labelIds: data.map(([id]) => Number(id)),
    scores: data.map(([, s]) => Number(s)),
  };
}
