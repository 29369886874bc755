/**
 * The demo's photo path on the built site: a PNG in (`?image=`), the narrow detector fixture's
 * regions drawn, a random VQA model whose visual_feat_dim is the detector's 64 (made by
 * scripts/make-random-vqa.mjs, converted into the site's weights/ at test time) answering; the
 * page's answers must equal Node's (the library on the cpu backend, the same PNG decoded by
 * fast-png) on WASM with WebGPU unavailable. Needs dist/ (npm run build) for the script.
 * The screenshot goes to $LXMERT_DEMO_SCREENSHOT when set (docs/demo.png is made that way).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/backend.js';
import { GeneralizedRCNN } from '../../src/detector/generalized_rcnn.js';
import { readImageFile } from '../../src/features/image_node.js';
import { LxmertVqa } from '../../src/app/lxmert_vqa.js';
import '../../src/node.js'; // folder sources for LxmertVqa
import { convertCheckpoint } from '../../src/weights/converter.js';
import { loadDetector } from '../../src/weights/detector_node.js';
import { FIXTURES } from '../helpers/golden.js';
import { CHROMIUM_AVAILABLE, launchChromium, NO_WEBGPU } from '../helpers/browser.js';
import { ROOT } from '../helpers/cli.js';
import { buildSite, openPage, readAnswers, type ShownAnswers, type Site } from './site.js';

const DETECTOR = join(FIXTURES, 'frcnn-narrow');
const IMAGE = join(DETECTOR, 'img_a.png');
const QUESTION = 'What is on the table?';

let tmp = '';
let site: Site | null = null;
let browser: Browser | null = null;
let node: ShownAnswers & { regions: number; objectIds: number[]; attributeIds: number[] };

beforeAll(async () => {
  if (!CHROMIUM_AVAILABLE) return;
  tmp = mkdtempSync(join(tmpdir(), 'lxmert-demo-photo-'));
  const random = join(tmp, 'random-vqa-64');
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'make-random-vqa.mjs'), random], {
    stdio: 'pipe',
  });
  // Node's answers on the same PNG: the library on cpu.
  await selectBackend('cpu', { log: () => undefined });
  const d = await loadDetector(DETECTOR);
  const rcnn = GeneralizedRCNN.build(d.config, d.weights, { source: d.source });
  const det = await rcnn.detect(await readImageFile(IMAGE));
  rcnn.dispose();
  const vqa = await LxmertVqa.load({ model: random, backend: 'cpu' });
  const r = await vqa.answer(
    { features: det.roiFeatures, boxes: det.normalizedBoxes, numBoxes: det.boxes.length / 4 },
    QUESTION,
    { topK: 5 },
  );
  vqa.dispose();
  node = {
    answers: r.answers.map((a) => a.answer),
    labelIds: r.answers.map((a) => a.labelId),
    scores: r.answers.map((a) => a.score),
    regions: det.numDetections,
    objectIds: [...det.objIds.subarray(0, det.numDetections)],
    attributeIds: [...det.attrIds.subarray(0, det.numDetections)],
  };
  site = await buildSite(async (dir) => {
    await convertCheckpoint(random, join(dir, 'weights', 'random-vqa-64'));
    await convertCheckpoint(DETECTOR, join(dir, 'weights', 'frcnn-narrow'));
    copyFileSync(IMAGE, join(dir, 'img_a.png'));
  });
  browser = await launchChromium(NO_WEBGPU);
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const LINK =
  '?model=./weights/random-vqa-64/&detector=./weights/frcnn-narrow/&image=./img_a.png' +
  `&question=${encodeURIComponent(QUESTION)}`;

function expectNodeAnswers(got: ShownAnswers) {
  expect(got.labelIds).toEqual(node.labelIds);
  expect(got.answers).toEqual(node.answers);
  got.scores.forEach((s, i) => expect(Math.abs(s - node.scores[i])).toBeLessThan(1e-3));
}

describe.skipIf(!CHROMIUM_AVAILABLE)('demo photo path in headless Chromium', () => {
  it('a link runs photo → regions → answers on wasm, equal to Node', async () => {
    // top answers well apart, so float noise between wasm and cpu cannot reorder them
    const gaps = node.scores.slice(1).map((s, i) => node.scores[i] - s);
    expect(Math.min(...gaps)).toBeGreaterThan(1e-2);
    const { page, context, errors } = await openPage(browser!, site!.url + LINK);
    const got = await readAnswers(page, 120_000);
    expect(await page.getByTestId('backend').innerText()).toBe('wasm');
    expectNodeAnswers(got);
    const regions = page.getByTestId('regions').getByTestId('region');
    expect(await regions.count()).toBe(node.regions);
    // the same regions as Node (object and attribute ids), listed in attention order
    const ids = await regions.evaluateAll((li) =>
      li.map((x) => [
        Number((x as HTMLElement).dataset.objectId),
        Number((x as HTMLElement).dataset.attributeId),
      ]),
    );
    const key = (o: number, a: number) => `${o}/${a}`;
    expect(ids.map(([o, a]) => key(o, a)).sort()).toEqual(
      node.objectIds.map((o, i) => key(o, node.attributeIds[i])).sort(),
    );
    const first = await regions.first().locator('.name').innerText();
    expect(first).toMatch(/^\S/);
    expect(await page.locator('#boxes rect').count()).toBe(node.regions);
    expect(await page.isVisible('#heat')).toBe(true);
    // The detector and the model run in LxmertVqa's worker: the page's main thread has no long
    // task (PerformanceObserver `longtask`, buffered) from the end of its start-up through load,
    // photo → regions, and the answer. On a machine whose run queue is over 2 per core the
    // scheduler stretches tiny tasks, so there only the count and the longest are printed.
    const tasks = await page.evaluate(
      () =>
        new Promise<{ start: number; duration: number; booted: number }[]>((resolve) => {
          const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
          const booted = nav.domContentLoadedEventEnd;
          new PerformanceObserver((list) =>
            resolve(
              list.getEntries().map((e) => ({ start: e.startTime, duration: e.duration, booted })),
            ),
          ).observe({ type: 'longtask', buffered: true });
          setTimeout(() => resolve([]), 1000);
        }),
    );
    const after = tasks.filter((t) => t.start > t.booted).map((t) => Math.round(t.duration));
    console.log(
      `demo photo path: ${tasks.length} long tasks in all, after start-up: [${after.join(', ')}] ms`,
    );
    if (loadavg()[0] / cpus().length < 2) expect(after.filter((d) => d > 50)).toEqual([]);
    const shot = process.env.LXMERT_DEMO_SCREENSHOT;
    if (shot) await page.screenshot({ path: shot, fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('offline after the first visit: a reload loads both models from the cache and answers', async () => {
    const { page, context, errors } = await openPage(browser!, site!.url + LINK);
    await readAnswers(page, 120_000);
    expect(await page.innerText('#storage')).toMatch(/Downloaded models: 2 \(2 complete/);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await context.setOffline(true);
    const models =
      '?model=./weights/random-vqa-64/&detector=./weights/frcnn-narrow/' +
      `&question=${encodeURIComponent(QUESTION)}`;
    await page.goto(site!.url + models);
    await page.waitForSelector('body[data-model="ready"], body[data-error]', { timeout: 60_000 });
    expect(await page.getAttribute('body', 'data-error')).toBeNull();
    expect(await page.innerText('#model-status')).toMatch(/from the cache/);
    await page.setInputFiles('#photo-file', IMAGE);
    await page.waitForSelector('body[data-detect="done"], body[data-error]', { timeout: 60_000 });
    await page.click('#ask');
    expectNodeAnswers(await readAnswers(page));
    // "forget downloaded models" empties the model cache (the app stays installed)
    await page.click('#forget');
    await page.waitForFunction(() =>
      document.querySelector('#storage')?.textContent?.includes('Downloaded models: 0'),
    );
    expect(errors).toEqual([]);
    await context.close();
  });
});
