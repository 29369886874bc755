/**
 * The narrow detector end to end on WebGPU in headless Chromium (Debian's chromium, SwiftShader
 * adapter): img_a decoded by the browser, GeneralizedRCNN → the 36 regions, against Hugging
 * Face's goldens (proposals and detections matched as sets, cases.json's end_to_end tolerances).
 * A Vite dev server on 127.0.0.1 serves test/browser/page; Playwright drives the page. Skipped
 * when /usr/bin/chromium is missing (LXMERT_REQUIRE_WEBGPU=1 makes that a failure).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_AVAILABLE, servePage, type ServedPage } from '../helpers/browser.js';
import type { DetectorReport } from './page/detector.js';

/** res5 over 300 regions on SwiftShader takes minutes on a loaded 2-core machine. */
const TIMEOUT_MS = 900_000;

let served: ServedPage | null = null;

beforeAll(async () => {
  if (!CHROMIUM_AVAILABLE) return;
  served = await servePage({
    page: 'test/browser/page/detector.html',
    entries: ['test/browser/page/detector.ts'],
    cache: 'browser-detector',
  });
});

afterAll(() => served?.close());

describe.skipIf(!CHROMIUM_AVAILABLE)(
  'headless Chromium, WebGPU (SwiftShader): the detector',
  () => {
    it(
      "frcnn-narrow img_a: the browser-decoded PNG → the 36 regions match HF's",
      async () => {
        const { page, errors } = await served!.open('frcnnEndToEnd');
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
  },
);
