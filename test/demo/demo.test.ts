/**
 * The built demo site in headless Chromium: lxmert-vqa-tiny's goldens through its obj36 features
 * (top-5 labels, strings and scores of img1_q1), the heatmap and its layer/head controls, the
 * service worker, manifest and cross-origin isolation on a host that sends no COOP/COEP, a
 * missing default model explained in the page, and a 360 px wide layout. Skipped when
 * /usr/bin/chromium is missing (LXMERT_REQUIRE_WEBGPU=1 makes that an error, as in the other
 * browser tests). The screenshot goes to $LXMERT_DEMO_SCREENSHOT when set.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../src/weights/converter.js';
import { FIXTURES } from '../helpers/golden.js';
import { CHROMIUM, CHROMIUM_AVAILABLE, launchChromium, NO_WEBGPU } from '../helpers/browser.js';
import { buildSite, openPage, readAnswers, type Site } from './site.js';

const FIXTURE = join(FIXTURES, 'lxmert-vqa-tiny');

interface TinyCase {
  name: string;
  question: string;
  img_id: string;
  top5_labels: number[];
  top5_answers: string[];
  top5_scores: number[];
}
const cases = (
  JSON.parse(readFileSync(join(FIXTURE, 'cases.json'), 'utf8')) as { cases: TinyCase[] }
).cases;
const TINY = '?model=./weights/lxmert-vqa-tiny/';

let site: Site | null = null;
let browser: Browser | null = null;

beforeAll(async () => {
  if (!CHROMIUM_AVAILABLE) return;
  site = await buildSite(async (dir) => {
    await convertCheckpoint(FIXTURE, join(dir, 'weights', 'lxmert-vqa-tiny'));
  });
  browser = await launchChromium(NO_WEBGPU);
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

/** Pick features.tsv and an image id, ask, read the answers. */
async function askFeatures(page: Page, c: TinyCase) {
  await page.click('#features summary');
  await page.setInputFiles('#tsv-file', join(FIXTURE, 'features.tsv'));
  await page.waitForSelector(`#image-id option[value="${c.img_id}"]`, { state: 'attached' });
  await page.selectOption('#image-id', c.img_id);
  await page.waitForFunction(
    (id) => document.querySelector('#photo-status')?.textContent?.startsWith(id),
    c.img_id,
  );
  await page.fill('#question', c.question);
  await page.click('#ask');
  return readAnswers(page);
}

function expectGolden(got: Awaited<ReturnType<typeof readAnswers>>, c: TinyCase) {
  expect(got.answers).toEqual(c.top5_answers);
  expect(got.labelIds).toEqual(c.top5_labels);
  got.scores.forEach((s, i) => expect(Math.abs(s - c.top5_scores[i])).toBeLessThan(1e-4));
}

describe.skipIf(!CHROMIUM_AVAILABLE)('demo site in headless Chromium', () => {
  it('answers lxmert-vqa-tiny golden questions from obj36 features on wasm, with a heatmap', async () => {
    const { page, context, errors } = await openPage(browser!, site!.url + TINY);
    await page.waitForSelector('body[data-model="ready"], body[data-error]', { timeout: 30_000 });
    expect(await page.getAttribute('body', 'data-error')).toBeNull();
    // --disable-gpu: no WebGPU adapter, so auto falls back to wasm and says why
    expect(await page.getByTestId('backend').innerText()).toBe('wasm');
    expect(await page.innerText('#backend-status')).toMatch(/^Backend: wasm \(webgpu: /);
    // the model runs in a Web Worker, threaded: the service worker made the page isolated
    expect(await page.innerText('#backend-status')).toMatch(
      /\d+ threads; in a Web Worker; cross-origin isolated\)$/,
    );
    const c = cases.find((x) => x.name === 'img1_q1')!;
    expectGolden(await askFeatures(page, c), c);
    const regions = page.getByTestId('regions').getByTestId('region');
    const numBoxes = Number(await page.getAttribute('body', 'data-regions'));
    expect(numBoxes).toBeGreaterThan(0);
    expect(await regions.count()).toBe(numBoxes);
    // attention: 2 cross layers x 2 heads in lxmert-vqa-tiny; weights shown per region sum to 1
    expect(await page.locator('#att-layer option').count()).toBe(2);
    expect(await page.locator('#att-head option').count()).toBe(3);
    expect(await page.isVisible('#heat')).toBe(true);
    for (const head of ['mean', '0', '1']) {
      await page.selectOption('#att-head', head);
      const shares = (await regions.locator('.weight').allInnerTexts()).map((t) => parseFloat(t));
      expect(shares).toHaveLength(numBoxes);
      expect(Math.abs(shares.reduce((a, b) => a + b, 0) - 100)).toBeLessThan(0.1 * numBoxes);
      expect([...shares].sort((a, b) => b - a)).toEqual(shares); // ordered by attention
    }
    // a second question on the other image, through the same loaded model
    const c2 = cases.find((x) => x.name === 'img2_q2')!;
    await page.selectOption('#image-id', c2.img_id);
    await page.fill('#question', c2.question);
    await page.click('#ask');
    expectGolden(await readAnswers(page), c2);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('installs: service worker, manifest, icons; isolated without COOP/COEP from the host', async () => {
    const { page, context, errors } = await openPage(browser!, site!.url);
    const sw = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      return {
        scope: reg.scope,
        script: reg.active?.scriptURL,
        controlled: !!navigator.serviceWorker.controller,
      };
    });
    expect(sw).toEqual({ scope: site!.url, script: `${site!.url}sw.js`, controlled: true });
    // the host sends no COOP/COEP; the service worker adds them, so the page is isolated
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.getAttribute('body', 'data-coi')).toBe('true');
    const nav = await page.reload();
    expect(nav?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    expect(nav?.headers()['cross-origin-opener-policy']).toBe('same-origin');
    const direct = await fetch(site!.url);
    expect(direct.headers.get('cross-origin-embedder-policy')).toBeNull();
    // the manifest meets Chromium's installability criteria
    const href = await page.getAttribute('link[rel="manifest"]', 'href');
    expect(href).toBeTruthy();
    const manifestUrl = new URL(href!, site!.url);
    const m = (await (await fetch(manifestUrl)).json()) as {
      name: string;
      short_name: string;
      start_url: string;
      display: string;
      theme_color: string;
      icons: { src: string; sizes: string; type: string; purpose?: string }[];
    };
    expect(m.name).toBeTruthy();
    expect(m.short_name).toBeTruthy();
    expect(m.display).toBe('standalone');
    expect(m.theme_color).toMatch(/^#[0-9a-f]{6}$/);
    expect(new URL(m.start_url, manifestUrl).href).toBe(site!.url);
    for (const [size, purpose] of [
      ['192x192', 'any'],
      ['512x512', 'any'],
      ['512x512', 'maskable'],
    ]) {
      const icon = m.icons.find((i) => i.sizes === size && (i.purpose ?? 'any') === purpose);
      expect(icon, `${size} ${purpose} icon`).toBeTruthy();
      const png = Buffer.from(await (await fetch(new URL(icon!.src, manifestUrl))).arrayBuffer());
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(`${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`).toBe(size);
    }
    // the precache holds the app shell incl. the WASM binaries, and no model shard
    const cached = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) {
        for (const req of await (await caches.open(name)).keys()) urls.push(req.url);
      }
      return urls;
    });
    expect(cached.some((u) => /tfjs-backend-wasm-threaded-simd.*\.wasm/.test(u))).toBe(true);
    expect(cached.some((u) => /index\.html/.test(u))).toBe(true);
    expect(cached.some((u) => u.includes('/weights/'))).toBe(false);
    expect(await page.isVisible('#update')).toBe(false);
    // a new build deployed: the page offers it, and switches to it when asked
    appendFileSync(join(site!.dir, 'sw.js'), '\n// next build\n');
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    await page.waitForSelector('#update:not([hidden])', { timeout: 30_000 });
    await Promise.all([page.waitForEvent('load'), page.click('#update-apply')]);
    await page.waitForSelector('body[data-ready="true"]');
    expect(
      await page.evaluate(async () => {
        const r = await navigator.serviceWorker.getRegistration();
        return { waiting: !!r?.waiting, controlled: !!navigator.serviceWorker.controller };
      }),
    ).toEqual({ waiting: false, controlled: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  it("passes Chromium's own installability check (non-incognito profile)", async () => {
    const profile = mkdtempSync(join(tmpdir(), 'lxmert-demo-profile-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: NO_WEBGPU,
    });
    try {
      const page = await context.newPage();
      await page.goto(site!.url);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
      const cdp = await context.newCDPSession(page);
      const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
        installabilityErrors: { errorId: string }[];
      };
      expect(installabilityErrors).toEqual([]);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it('explains a missing default model, and fits a 360 px screen', async () => {
    const { page, context, errors } = await openPage(browser!, site!.url, 360);
    await page.waitForSelector('#missing:not([hidden])');
    const text = await page.innerText('#missing');
    expect(text).toContain('./weights/lxmert-vqa/');
    expect(text).toContain('npx lxmert convert unc-nlp/lxmert-vqa-uncased weights/lxmert-vqa');
    expect(text).toContain('npx lxmert convert unc-nlp/frcnn-vg-finetuned weights/frcnn-vg');
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});
