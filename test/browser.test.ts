// The library in headless Chromium (puppeteer, /usr/bin/chromium): the same kernels through navigator.gpu, a
// gradient check against the float64 reference in the page, and training. Fails when no adapter is found.
import { fileURLToPath } from 'node:url';
import type { Browser } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTO_MARGIN, CPU_VARIANTS, GPU_VARIANTS, pickVariant } from '../src/gpu/autotune.js';
// @ts-expect-error plain JavaScript helper shared with the benchmark and demo tests
import { launchBrowser, startViteServer } from '../scripts/browser.js';

let browser: Browser;
let server: { url: string; close: () => Promise<void> };

beforeAll(async () => {
  server = await startViteServer({ root: fileURLToPath(new URL('./browser', import.meta.url)) });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('in headless Chromium', () => {
  it('matches the reference gradients and trains', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(server.url, { waitUntil: 'load' });
    await page.waitForFunction('typeof window.webgradCheck === "function"', { timeout: 60_000 });
    const result = (await page.evaluate('window.webgradCheck()')) as {
      adapter: { architecture: string };
      cases: { spec: { sizes: number[] }; worst: number }[];
      before: number;
      stepLoss: number;
      afterStep: number;
      after: { loss: number; accuracy: number };
      steps: number;
    };
    expect(errors).toEqual([]);
    expect(result.adapter.architecture).not.toBe('');
    for (const c of result.cases) expect(c.worst, `sizes ${c.spec.sizes}`).toBeLessThanOrEqual(1);
    expect(result.stepLoss).toBeCloseTo(result.before, 6);
    expect(result.afterStep).toBeLessThan(result.before);
    expect(result.steps).toBe(120);
    expect(result.after.loss).toBeLessThan(result.before / 2);
    expect(result.after.accuracy).toBeGreaterThan(0.9);
  });

  it("keeps the kernel 'auto' timed on a CPU adapter in IndexedDB, for the next page of the origin", async () => {
    type Choice = { name: string; timings: Record<string, number> | null; cpu: boolean; stored: unknown[] };
    const choose = async () => {
      const page = await browser.newPage();
      await page.goto(server.url, { waitUntil: 'load' });
      await page.waitForFunction('typeof window.webgradMatmul === "function"', { timeout: 60_000 });
      const choice = (await page.evaluate('window.webgradMatmul()')) as Choice;
      await page.close();
      return choice;
    };
    const first = await choose();
    expect(first.timings).not.toBeNull();
    const timings = first.timings ?? {};
    expect(Object.keys(timings).length).toBeGreaterThan(1);
    expect(first.name).toBe(pickVariant(timings, first.cpu ? CPU_VARIANTS : GPU_VARIANTS, AUTO_MARGIN));
    // On a CPU adapter (SwiftShader here) the decision is kept, and the next page takes it untimed (the same
    // numbers: a new timing would not repeat them). A GPU's is timed again in each page, and not kept.
    if (!first.cpu) return expect(first.stored).toEqual([]);
    expect(first.stored).toEqual([{ variant: first.name, timings }]);
    const second = await choose();
    expect(second.name).toBe(first.name);
    expect(second.timings).toEqual(timings);
    expect(second.stored).toEqual(first.stored);
  });
});
