/**
 * The whole model on WebGPU in headless Chromium (Debian's chromium, SwiftShader adapter, see
 * ../shared/GPU.md) against Hugging Face's goldens: a Vite dev server on 127.0.0.1 serves
 * test/browser/page, Playwright drives the page. Skipped when /usr/bin/chromium is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_AVAILABLE, servePage, type ServedPage } from '../helpers/browser.js';
import type { ParityReport } from './page/main.js';

let served: ServedPage | null = null;

beforeAll(async () => {
  if (!CHROMIUM_AVAILABLE) return;
  served = await servePage({
    page: 'test/browser/page/index.html',
    entries: ['test/browser/page/main.ts'],
    cache: 'browser-webgpu',
  });
});

afterAll(() => served?.close());

describe.skipIf(!CHROMIUM_AVAILABLE)('headless Chromium, WebGPU (SwiftShader)', () => {
  it('lxmert-tiny-sharp: every output of every case matches the goldens', async () => {
    const { page, errors } = await served!.open('lxmertParity');
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
