/**
 * The demo page for real: `vite build` of index.html, a `lxmert convert` output of lxmert-vqa-tiny
 * under the built page's weights/, a static server on 127.0.0.1, headless Chromium (Playwright).
 * Load the default model URL, upload features.tsv, ask "What color is the cat?" about
 * demo_000001: the page must show cases.json's top-5 for img1_q1 (`teacher` first). The same
 * built site served with COOP/COEP runs tfjs-wasm's threaded build in the model's worker (the
 * bundled worker source used to die with `ReferenceError: e is not defined`). Skipped when
 * /usr/bin/chromium is missing. The screenshot goes to $LXMERT_DEMO_SCREENSHOT, else the tmp dir.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { FIXTURES } from '../helpers/golden.js';
import { ISOLATION_HEADERS } from '../../vite.config.js';
import { serveStatic, type StaticServer } from './server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = join(FIXTURES, 'lxmert-vqa-tiny');
const ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const available = existsSync(CHROMIUM);
const img1q1 = (
  JSON.parse(readFileSync(join(FIXTURE, 'cases.json'), 'utf8')) as {
    cases: { name: string; top5_labels: number[]; top5_answers: string[] }[];
  }
).cases.find((c) => c.name === 'img1_q1')!;

let tmp = '';
let server: StaticServer | null = null;
let isolated: StaticServer | null = null;
let browser: Browser | null = null;

beforeAll(async () => {
  if (!available) return;
  tmp = mkdtempSync(join(tmpdir(), 'lxmert-demo-'));
  const out = join(tmp, 'dist');
  await build({
    root: ROOT,
    configFile: join(ROOT, 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir: out, emptyOutDir: true },
  });
  mkdirSync(join(out, 'weights'), { recursive: true }); // the converter wants the parent
  await convertCheckpoint(FIXTURE, join(out, 'weights', 'lxmert-vqa-tiny'));
  server = await serveStatic(out);
  isolated = await serveStatic(out, ISOLATION_HEADERS);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await isolated?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function openPage(at = server!): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 900, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(at.url);
  return { page, errors };
}

async function askAboutImage1(page: Page): Promise<{ ids: number[]; answers: string[] }> {
  await page.setInputFiles('#tsv-file', join(FIXTURE, 'features.tsv'));
  await page.waitForSelector('#image-id option[value="demo_000002"]', { state: 'attached' });
  await page.selectOption('#image-id', 'demo_000001');
  await page.fill('#question', 'What color is the cat?');
  await page.click('#ask');
  await page.waitForSelector('body[data-answer="done"], body[data-error]', { timeout: 30_000 });
  const items = page.locator('#answers li');
  return {
    ids: (await items.evaluateAll((li) => li.map((x) => (x as HTMLElement).dataset.labelId))).map(
      Number,
    ),
    answers: await items.locator('.answer').allInnerTexts(),
  };
}

describe.skipIf(!available)('demo page in headless Chromium', () => {
  it('loads the default model URL, reads features.tsv and answers img1_q1', async () => {
    const { page, errors } = await openPage();
    expect(await page.inputValue('#model-url')).toBe('./weights/lxmert-vqa-tiny/');
    await page.click('#load-url');
    await page.waitForSelector('body[data-model="ready"], body[data-error]', { timeout: 30_000 });
    expect(await page.getAttribute('body', 'data-error')).toBeNull();
    const status = await page.innerText('#model-status');
    expect(status).toMatch(/Loaded LxmertForQuestionAnswering \(float32, 5\.\d\d MB/);
    expect(status).toMatch(/answers: the model \(labels\.json\)/);
    // --disable-gpu: no WebGPU adapter, so auto falls back to wasm and says why
    expect(await page.innerText('#backend-status')).toMatch(/^Backend: wasm \(webgpu: /);
    const got = await askAboutImage1(page);
    expect(await page.getAttribute('body', 'data-error')).toBeNull();
    expect(got.answers).toEqual(img1q1.top5_answers);
    expect(got.ids).toEqual(img1q1.top5_labels);
    expect(await page.innerText('#ask-status')).toMatch(/ms on wasm|s on wasm/);
    const shot = process.env.LXMERT_DEMO_SCREENSHOT ?? join(tmpdir(), 'lxmert-demo.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('loads picked model files on cpu; a bad URL shows a typed error', async () => {
    const { page, errors } = await openPage();
    await page.fill('#model-url', './weights/nothing-here/');
    await page.click('#load-url');
    await page.waitForSelector('body[data-error]');
    expect(await page.innerText('#error')).toMatch(/^WeightsError: .*HTTP 404/);
    await page.selectOption('#backend', 'cpu');
    const dir = join(tmp, 'dist', 'weights', 'lxmert-vqa-tiny');
    await page.setInputFiles(
      '#model-files',
      readdirSync(dir).map((f) => join(dir, f)),
    );
    await page.waitForSelector('body[data-model="ready"]', { timeout: 30_000 });
    expect(await page.innerText('#backend-status')).toMatch(/^Backend: cpu/);
    const got = await askAboutImage1(page);
    expect(got.answers[0]).toBe('teacher');
    expect(got.ids).toEqual(img1q1.top5_labels);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('served cross-origin isolated: wasm runs threaded in the worker and answers', async () => {
    const { page, errors } = await openPage(isolated!);
    const workerErrors: string[] = [];
    page.on('worker', (w) => w.on('console', (m) => workerErrors.push(m.text())));
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await page.selectOption('#backend', 'wasm');
    await page.click('#load-url');
    await page.waitForSelector('body[data-model="ready"], body[data-error]', { timeout: 60_000 });
    expect(await page.getAttribute('body', 'data-error')).toBeNull();
    const backend = await page.innerText('#backend-status');
    console.log(`isolated demo: ${backend}`);
    expect(backend).toMatch(/^Backend: wasm .*; threaded-simd build, \d+ threads?; in a worker/);
    // tfjs-wasm runs half the logical cores (at most 8): 1 on a 2-core machine
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const threads = Number(/, (\d+) threads?/.exec(backend)?.[1]);
    expect(threads).toBe(Math.min(8, Math.max(1, Math.floor(cores / 2))));
    expect(backend).toMatch(/cross-origin isolated$/);
    const got = await askAboutImage1(page);
    expect(got.ids).toEqual(img1q1.top5_labels);
    expect(errors).toEqual([]);
    expect(workerErrors.filter((m) => /is not defined/.test(m))).toEqual([]);
    await page.close();
  });
});
