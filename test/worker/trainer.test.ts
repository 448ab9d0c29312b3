// webgrad/worker (src/worker/) in headless Chromium: a model trained in a dedicated Worker, events and errors
// on the page, transfer of data, abort, save and load across threads, and a main thread free of long tasks.
import { fileURLToPath } from 'node:url';
import type { Browser } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript helper shared with the benchmark and demo tests
import { launchBrowser, startViteServer } from '../../scripts/browser.js';

let browser: Browser;
let server: { url: string; close: () => Promise<void> };
/** What window.workerCheck() returned in the first test; the second reads the rest of it. */
let result: unknown;

beforeAll(async () => {
  server = await startViteServer({ root: fileURLToPath(new URL('./page', import.meta.url)) });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('training in a dedicated Worker', () => {
  it('trains, reports, refuses, aborts and saves like Mlp, and keeps the page free of long tasks', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url, { waitUntil: 'load' });
    await page.waitForFunction('typeof window.workerCheck === "function"', { timeout: 60_000 });
    const r = (await page.evaluate('window.workerCheck()')) as Record<string, never> & {
      history: { steps: number; epochs: number; aborted: boolean };
      badFit: { name: string; message: string; isRange: boolean };
      badModel: { name: string; message: string; isRange: boolean };
      badTiming: { name: string; message: string };
      aborted: { aborted: boolean; steps: number };
      afterTerminate: { message: string };
    };
    result = r;
    expect(errors).toEqual([]);
    expect(r.adapter).not.toBe('');
    expect(r.transferred).toBe(true);
    expect(r.history).toEqual({ steps: 25 * 8, epochs: 25, aborted: false });
    expect(r.stepEvents).toBe(200);
    expect(r.epochEvents).toBe(25);
    expect(r.lastLoss).toBeLessThan(r.firstLoss / 2);
    expect(r.accuracy).toBeGreaterThan(0.9);
    expect(r.samePredictions).toBe(true);
    expect(r.badFit).toMatchObject({ name: 'RangeError', isRange: true });
    expect(r.badFit.message).toMatch(/fit: batchSize must be an integer >= 1, got -1/);
    expect(r.badModel).toMatchObject({ name: 'RangeError', isRange: true });
    expect(r.badModel.message).toMatch(/mlp: sizes must be at least two integers/);
    expect(r.badTiming).toMatchObject({
      name: 'TypeError',
      message: 'createTrainer: onTiming must be a function; got "log"',
    });
    expect(r.aborted.aborted).toBe(true);
    expect(r.aborted.steps).toBeLessThan(1000 * 8);
    expect(r.afterTerminate.message).toMatch(/after terminate/);
    // The fit ran for seconds on a CPU adapter; the page's own tasks stayed short all the while.
    expect(r.fitMs).toBeGreaterThan(200);
    expect(r.longestTask).toBeLessThan(50);
  });

  it('replaces the model in the same worker, keeping the data; reports the device and the model counts', async () => {
    const r = result as Record<string, never> & {
      device: { limits: Record<string, number>; matmul: { name: string; rows: number; cols: number } };
      matmul: string;
      first: { sizes: number[]; maxRows: number; flopsPerSample: number; parameterCount: number };
      swapped: { sizes: number[]; activations: string[]; parameterCount: number };
      badSwap: { name: string; message: string; isRange: boolean };
      swapDuringFit: { message: string };
    };
    expect(r.device.limits.maxBufferSize).toBeGreaterThan(0);
    expect(r.device.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(r.device.matmul.name).toBe(r.matmul);
    expect(r.device.matmul.rows).toBeGreaterThan(0);
    expect(r.first.sizes).toEqual([2, 32, 32, 2]);
    expect(r.first.maxRows).toBeGreaterThan(0);
    expect(r.first.flopsPerSample).toBeGreaterThan(0);
    expect(r.first.parameterCount).toBe(2 * 32 + 32 + 32 * 32 + 32 + 32 * 2 + 2);
    expect(r.swapped).toMatchObject({ sizes: [2, 48, 2], activations: ['tanh', 'identity'], parameterCount: 242 });
    expect(r.refitSteps).toBe(2 * 4);
    expect(r.badSwap).toMatchObject({ name: 'RangeError', isRange: true });
    expect(r.keptAfterBad).toBe(true);
    expect(r.swapDuringFit.message).toMatch(/setModel: fit\(\) is running/);
    expect(r.reloadedSizes).toEqual([2, 32, 32, 2]);
    expect(r.sameAfterReload).toBe(true);
  });
});
