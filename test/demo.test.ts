// The demo page in headless Chromium: it loads cleanly, trains a 2-D set and MNIST from its controls (the loss
// shown falls, the accuracy rises), pauses and resumes, saves the model and loads it back, trains in a Worker
// with no main-thread task over 50 ms while it trains, trains on CSV files (regression scored in the target's
// units with a scatter plot, classes by name, refused files explained in the page), and without WebGPU says so.
// Screenshots go to test/artifacts/. No Chromium or no WebGPU adapter is a failure, not a skip.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, ElementHandle, Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript helper shared with the benchmark and browser tests
import { launchBrowser, startViteServer } from '../scripts/browser.js';
import { decodeModel, encodeModel } from '../src/io/model-file.js';

const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));
let server: { url: string; close: () => Promise<void> };
let browser: Browser;
/** Downloads and files to upload. */
let scratch: string;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), 'webgrad-demo-'));
  server = await startViteServer({ root: fileURLToPath(new URL('../demo', import.meta.url)) });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/**
 * Opens the page and waits until it has settled: ready to train, or showing why it cannot. `prepare` runs on
 * the new page before it loads.
 */
async function open(b: Browser, prepare?: (page: Page) => Promise<unknown>): Promise<{ page: Page; errors: string[] }> {
  const page = await b.newPage();
  await prepare?.(page);
  await page.setViewport({ width: 1400, height: 1000 });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(server.url, { waitUntil: 'load' });
  await settle(page);
  return { page, errors };
}

const state = (page: Page) => page.evaluate(() => document.body.dataset.state ?? '');
const status = (page: Page) => page.$eval('#status', (el) => el.textContent ?? '');

/** Waits for the page to leave its loading state (a rebuild after a settings change, or the first load). */
async function settle(page: Page, timeout = 60_000): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.state !== 'loading', { timeout });
}

async function expectReady(page: Page): Promise<void> {
  await settle(page);
  expect(await state(page), await status(page)).toBe('ready');
}

/** Sets an input's value as a person would, firing the change event the page listens to. */
async function setValue(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(
    selector,
    (el, v) => {
      (el as HTMLInputElement).value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
      el.dispatchEvent(new Event('change', { bubbles: true }));
    },
    value,
  );
  await expectReady(page);
}

async function choose(page: Page, selector: string, value: string): Promise<void> {
  await page.select(selector, value);
  await expectReady(page);
}

interface EpochRow {
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  complete: boolean;
}

/** The epoch log, oldest first. */
function epochLog(page: Page): Promise<EpochRow[]> {
  return page.$$eval('#epoch-log tr', (rows) =>
    rows.reverse().map((r) => ({
      loss: Number(r.dataset.loss),
      accuracy: Number(r.dataset.accuracy),
      valLoss: Number(r.dataset.valLoss),
      valAccuracy: Number(r.dataset.valAccuracy),
      complete: r.dataset.complete === 'true',
    })),
  );
}

/** The live readouts: loss and accuracy (moving averages of the batches) and the step count. */
function readouts(page: Page): Promise<{ loss: number; accuracy: number; step: number }> {
  return page.evaluate(() => {
    const value = (id: string) => Number(document.getElementById(id)?.dataset.value);
    return { loss: value('stat-loss'), accuracy: value('stat-accuracy'), step: value('stat-step') };
  });
}

async function waitForState(page: Page, wanted: string, timeout = 60_000): Promise<void> {
  await page.waitForFunction((w) => document.body.dataset.state === w, { timeout }, wanted);
}

/** Waits until the decision regions are painted: most of the canvas tinted, not the bare background. */
async function waitForRegions(page: Page, timeout: number): Promise<void> {
  await page.waitForFunction(
    () => {
      const c = document.getElementById('regions') as HTMLCanvasElement;
      if (c.width === 0) return false;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let bare = 0;
      let seen = 0;
      for (let i = 0; i < data.length; i += 4 * 97, seen++) {
        if (data[i] === 0xf8 && data[i + 1] === 0xfa && data[i + 2] === 0xfc) bare++;
      }
      return bare < 0.2 * seen;
    },
    { timeout, polling: 50 },
  );
}

/** Pixels with any ink on a chart's canvas (axes, grid, ticks and curves). */
function chartInk(page: Page, id: string): Promise<number> {
  return page.$eval(`#${id} canvas`, (canvas) => {
    const c = canvas as HTMLCanvasElement;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
    return ink;
  });
}

/** The values a chart's legend shows for training and validation. */
function legend(page: Page, id: string): Promise<string[]> {
  return page.$$eval(`#${id} .u-legend .u-series`, (rows) =>
    rows
      .filter((r) => /training|validation/.test(r.textContent ?? ''))
      .map((r) => r.querySelector('.u-value')?.textContent ?? ''),
  );
}

/** The settings that are disabled (locked), by id. */
function disabledSettings(page: Page): Promise<string[]> {
  return page.$$eval('.controls select, .controls input', (els) =>
    els.filter((el) => (el as HTMLInputElement).disabled && el.id !== 'output-act').map((el) => el.id || el.className),
  );
}

/** Clicks Download and returns the file the page saved, once it has been written. */
async function download(page: Page): Promise<{ name: string; bytes: Uint8Array }> {
  const dir = mkdtempSync(join(scratch, 'download-'));
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: dir });
  await page.click('#download');
  const deadline = Date.now() + 20_000;
  for (;;) {
    const done = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
    if (done.length > 0) return { name: done[0], bytes: new Uint8Array(readFileSync(join(dir, done[0]))) };
    if (Date.now() > deadline) throw new Error(`no download in ${dir}: ${readdirSync(dir).join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Feeds a file to the page's Load input, as picking it in the file dialog would. */
async function upload(page: Page, name: string, bytes: Uint8Array): Promise<void> {
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  const input = (await page.$('#load')) as ElementHandle<HTMLInputElement>;
  await input.uploadFile(path);
}

const modelNote = (page: Page) =>
  page.$eval('#model-note', (el) => ({ text: el.textContent ?? '', error: el.classList.contains('error') }));

/** What the long-task test installs in the page before it loads. */
interface Watch {
  tasks: { start: number; duration: number }[];
  /** Times the page redrew the model's predictions (regions or gallery). */
  redraws: number[];
  started: number;
  done: number;
}

/**
 * Presses Start and waits for the run to be done, timing it from inside the page: the window runs from the click
 * on Start to the state turning to done. What comes before Start (the page's load, MNIST's, the settings
 * changes, the data sent to the worker, the untrained model's first predictions drawn on the CPU) is outside it,
 * as is the redraw after done. `since`: where the setup before this run began (the last run's end).
 */
async function watchedRun(page: Page, since = 0) {
  await page.evaluate(() => {
    const watch = (window as unknown as { watch: Watch }).watch;
    new MutationObserver((_, observer) => {
      if (document.body.dataset.state !== 'done') return;
      watch.done = performance.now();
      observer.disconnect();
    }).observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
    watch.started = performance.now();
    document.getElementById('start')!.click();
  });
  await waitForState(page, 'done', 90_000);
  // Long tasks are reported after they end: give the observer a moment.
  await new Promise((r) => setTimeout(r, 300));
  const w = await page.evaluate(() => (window as unknown as { watch: Watch }).watch);
  const long = w.tasks.filter((t) => t.start < w.done && t.start + t.duration > w.started);
  const setup = w.tasks.filter((t) => t.start > since && t.start < w.started);
  const before = Math.max(0, ...setup.map((t) => t.duration));
  const redraws = w.redraws.filter((t) => t > w.started && t < w.done).length;
  const log = await epochLog(page);
  const dataset = await page.$eval('#dataset', (el) => (el as HTMLSelectElement).value);
  const at = long.map((t) => `${t.duration.toFixed(0)} ms from ${(t.start - w.started).toFixed(0)} ms after Start`);
  console.log(
    `${dataset}: ${log.length} epochs in ${((w.done - w.started) / 1000).toFixed(1)} s, predictions redrawn ` +
      `${redraws} times; main-thread tasks over 50 ms while training: ${at.join(', ') || 'none'}; ` +
      `longest before Start ${before.toFixed(0)} ms`,
  );
  return { long, redraws, log, done: w.done };
}

/** Feeds a CSV file to the page's CSV input, as picking it in the file dialog would. */
async function uploadCsv(page: Page, name: string, text: string): Promise<void> {
  const path = join(scratch, name);
  writeFileSync(path, text);
  const input = (await page.$('#csv-file')) as ElementHandle<HTMLInputElement>;
  await input.uploadFile(path);
  // Read asynchronously: the page has taken the file once it names it (read) or its status does (refused).
  await page.waitForFunction(
    (n) =>
      [document.getElementById('csv-info'), document.getElementById('status')].some(
        (el) => el!.textContent!.startsWith(n) || el!.textContent!.includes(`Error: ${n}`),
      ),
    {},
    name,
  );
}

/** Rows of y = 3·x1 − 2·x2 + 10 plus Gaussian noise (σ 0.5, against σ_y ≈ 2.1), from a seeded generator. */
function noisyLinear(rows: number): string {
  let state = 12345;
  const uniform = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  const lines = ['x1,x2,y'];
  for (let i = 0; i < rows; i++) {
    const [x1, x2] = [2 * uniform() - 1, 2 * uniform() - 1];
    const noise = 0.5 * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    lines.push(`${x1.toFixed(3)},${x2.toFixed(3)},${(3 * x1 - 2 * x2 + 10 + noise).toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}

const text = (page: Page, selector: string) => page.$eval(selector, (el) => el.textContent ?? '');
const visible = (page: Page, selector: string) =>
  page.$eval(selector, (el) => !(el as HTMLElement).hidden && (el as HTMLElement).offsetHeight > 0);

describe('the demo page', () => {
  it('trains on a 2-D set from its controls, pauses, resumes, saves the model and loads it back', async () => {
    const { page, errors } = await open(browser);
    await expectReady(page);
    // The untrained model's regions at once (on the CPU), not after the GPU's first prediction.
    await waitForRegions(page, 3000);
    expect(await page.$eval('#adapter-name', (el) => el.textContent)).not.toBe('–');
    expect(await page.$$eval('#limits dt', (dts) => dts.length)).toBeGreaterThanOrEqual(4);
    // Before training both charts show their axes and grid: the loss chart as much ink as the accuracy chart.
    expect(await chartInk(page, 'chart-loss')).toBeGreaterThan(0.5 * (await chartInk(page, 'chart-accuracy')));

    await choose(page, '#dataset', 'moons');
    await choose(page, '#rows', '500');
    await setValue(page, '#batch', '3'); // 2^3 = 8 rows a step: 63 steps an epoch, time enough to pause
    await setValue(page, '#epochs', '3');
    expect(await page.$eval('#batch-value', (el) => el.textContent)).toBe('8');
    expect(await page.$eval('#steps-hint', (el) => (el as HTMLElement).hidden)).toBe(true);

    // Start, and pause from inside the page as soon as the first steps show: on a fast GPU the whole run takes
    // less time than a round trip from the test to the page.
    const started = performance.now();
    await page.evaluate(() => {
      const step = document.getElementById('stat-step')!;
      new MutationObserver((_, observer) => {
        if (Number(step.dataset.value) < 8) return;
        observer.disconnect();
        // What is locked while it trains: every setting, rows per GPU pass included, and loading a model.
        const locked = [...document.querySelectorAll<HTMLInputElement>('.controls select, .controls input')];
        document.body.dataset.lockedWhileTraining = String(locked.every((el) => el.disabled));
        document.getElementById('pause')!.click();
      }).observe(step, { attributes: true, childList: true, characterData: true, subtree: true });
      document.getElementById('start')!.click();
    });
    await waitForState(page, 'paused');
    expect(await page.evaluate(() => document.body.dataset.lockedWhileTraining)).toBe('true');
    expect(await disabledSettings(page)).toContain('pass-rows');
    const first = await readouts(page);
    const paused = first.step;
    expect(paused).toBeGreaterThanOrEqual(8);
    expect(paused).toBeLessThan(3 * 63);
    await new Promise((r) => setTimeout(r, 300));
    expect((await readouts(page)).step).toBe(paused);
    expect(await page.$eval('#pause', (el) => el.textContent)).toBe('Resume');

    await page.click('#pause');
    await waitForState(page, 'done', 90_000);
    const seconds = (performance.now() - started) / 1000;
    const last = await readouts(page);
    const log = await epochLog(page);
    console.log(
      `moons: ${last.step} steps in ${seconds.toFixed(1)} s; loss ${first.loss.toFixed(3)} -> ${last.loss.toFixed(3)}, ` +
        `accuracy ${first.accuracy.toFixed(3)} -> ${last.accuracy.toFixed(3)}`,
    );
    expect(last.step).toBeGreaterThan(paused);
    expect(last.loss).toBeLessThan(first.loss);
    expect(last.accuracy).toBeGreaterThan(first.accuracy);
    // Resuming starts a fresh epoch: the one the pause cut short may be logged as a part.
    const full = log.filter((r) => r.complete);
    expect(full).toHaveLength(3);
    expect(full[2].loss).toBeLessThan(full[0].loss);
    expect(full[2].valLoss).toBeLessThan(full[0].valLoss);
    expect(full[2].valAccuracy).toBeGreaterThanOrEqual(full[0].valAccuracy);
    expect(full[2].valAccuracy).toBeGreaterThan(0.8);

    // The regions are painted: many distinct colours, not a blank canvas.
    await new Promise((r) => setTimeout(r, 500));
    const colours = await page.$eval('#regions', (canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < data.length; i += 4 * 97) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      return seen.size;
    });
    expect(colours).toBeGreaterThan(20);
    // The legends show the latest values without the pointer over the charts.
    expect(await legend(page, 'chart-loss')).toEqual([expect.stringMatching(/^\d/), expect.stringMatching(/^\d/)]);
    expect(await legend(page, 'chart-accuracy')).toEqual([
      expect.stringMatching(/^\d+\.\d%$/),
      `${(full[2].valAccuracy * 100).toFixed(1)}%`,
    ]);
    await page.screenshot({ path: `${artifacts}demo-moons.png`, fullPage: true });

    // Done unlocks every setting; the trained model downloads as a model file.
    expect(await disabledSettings(page)).toEqual([]);
    const saved = await download(page);
    expect(saved.name).toBe('webgrad-moons-2-32-32-2.safetensors');
    const file = decodeModel(saved.bytes);
    expect(file.sizes).toEqual([2, 32, 32, 2]);
    expect((await modelNote(page)).text).toContain(`Saved ${saved.name}`);

    // A change after Done starts a fresh run: untrained, nothing logged, the regions drawn again at once.
    await setValue(page, '#epochs', '4');
    expect(await status(page)).toMatch(/^Ready/);
    expect(await epochLog(page)).toEqual([]);
    expect(await page.$eval('#stat-step', (el) => el.textContent)).toBe('–');
    expect(await legend(page, 'chart-loss')).toEqual(['–', '–']);
    expect(await page.$eval('#start', (el) => el.textContent)).toBe('Start');
    await waitForRegions(page, 3000);

    // Loading the file restores the trained model: same architecture, same validation score.
    await upload(page, saved.name, saved.bytes);
    await page.waitForFunction(() => /validation accuracy/.test(document.getElementById('status')!.textContent!), {
      timeout: 30_000,
    });
    const restored = await page.evaluate(() => ({
      loss: Number(document.getElementById('stat-val-loss')!.dataset.value),
      accuracy: Number(document.getElementById('stat-val-accuracy')!.dataset.value),
    }));
    expect(restored.accuracy).toBeCloseTo(full[2].valAccuracy, 3);
    expect(restored.loss).toBeCloseTo(full[2].valLoss, 3);
    expect((await modelNote(page)).text).toContain('2 → 32 → 32 → 2');
    expect(await state(page)).toBe('ready');
    await page.screenshot({ path: `${artifacts}demo-loaded.png`, fullPage: true });

    // A model no dataset here fits, or a file that is no model, is refused and changes nothing.
    const misfit = encodeModel(
      { sizes: [3, 4, 5], activations: ['relu', 'identity'], loss: 'cross_entropy' },
      [
        { weight: new Float32Array(12), bias: new Float32Array(4) },
        { weight: new Float32Array(20), bias: new Float32Array(5) },
      ],
      null,
    );
    for (const [name, bytes, reason] of [
      ['misfit.safetensors', misfit, /3 inputs to 5 outputs/],
      ['notes.safetensors', new TextEncoder().encode('not a model'), /not a model file webgrad can read/],
    ] as const) {
      await upload(page, name, bytes);
      await page.waitForFunction((n) => document.getElementById('model-note')!.textContent!.includes(n), {}, name);
      const refused = await modelNote(page);
      expect(refused.error).toBe(true);
      expect(refused.text).toMatch(reason);
      expect(await state(page)).toBe('ready');
      expect(await status(page)).toContain(`Loaded ${saved.name}`);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('splits a batch larger than one GPU pass and still learns', async () => {
    const { page, errors } = await open(browser);
    await expectReady(page);
    await choose(page, '#dataset', 'moons');
    await choose(page, '#pass-rows', '256');
    await setValue(page, '#batch', '16'); // 65,536 rows asked: every step uses the whole training set
    await setValue(page, '#epochs', '25');
    expect(await page.$eval('#batch-note', (el) => el.textContent)).toMatch(
      /\d+ GPU passes per step, gradients summed/,
    );
    // One step an epoch, 25 in all: the page says so, and offers enough epochs.
    const hint = await page.$eval('#steps-hint', (el) => ({
      hidden: (el as HTMLElement).hidden,
      text: el.textContent,
    }));
    expect(hint.hidden).toBe(false);
    expect(hint.text).toMatch(/Only 1 step per epoch: 25 steps in all/);
    expect(hint.text).toMatch(/more epochs.*larger learning rate/);
    expect(hint.text).toMatch(/Use 500 epochs/);
    await page.screenshot({ path: `${artifacts}demo-few-steps.png`, fullPage: true });
    await page.click('#start');
    await waitForState(page, 'done', 90_000);
    const log = await epochLog(page);
    expect(log).toHaveLength(25);
    expect(log[24].loss).toBeLessThan(log[0].loss);
    // The hint's button sets the epochs it names, for a fresh run.
    await page.click('#more-epochs');
    await expectReady(page);
    expect(await page.$eval('#epochs', (el) => (el as HTMLInputElement).value)).toBe('500');
    expect(await page.$eval('#steps-hint', (el) => (el as HTMLElement).hidden)).toBe(true);
    expect(await epochLog(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('trains on a few hundred MNIST digits, reads a drawn digit and loads the model back', async () => {
    const { page, errors } = await open(browser);
    await expectReady(page);
    await choose(page, '#dataset', 'mnist');
    await choose(page, '#rows', '500');
    await setValue(page, '#epochs', '2');
    expect(await page.$$eval('#gallery figure', (f) => f.length)).toBe(40);

    await page.click('#start');
    await waitForState(page, 'done', 90_000);
    const log = await epochLog(page);
    expect(log).toHaveLength(2);
    expect(log[1].loss).toBeLessThan(log[0].loss);
    expect(log[1].accuracy).toBeGreaterThan(log[0].accuracy);
    expect(log[1].valAccuracy).toBeGreaterThan(0.2);

    // Guesses under every test digit, wrong ones marked.
    await page.waitForFunction(
      () => document.querySelectorAll('#gallery figure.right, #gallery figure.wrong').length === 40,
    );
    const wrong = await page.$$eval('#gallery figure.wrong', (f) => f.length);
    expect(await page.$eval('#gallery-score', (el) => el.textContent)).toBe(`${40 - wrong} of 40 right`);

    // A stroke on the pad gives ten probabilities that add up to one.
    const pad = (await page.$('#pad'))!;
    const box = (await pad.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.15);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.85, { steps: 10 });
    await page.mouse.up();
    await page.waitForFunction(() => document.getElementById('probs')?.dataset.guess !== '', { timeout: 30_000 });
    const probs = await page.$$eval('#probs .prob-value', (els) => els.map((e) => Number.parseFloat(e.textContent!)));
    expect(probs).toHaveLength(10);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 0);

    await page.screenshot({ path: `${artifacts}demo-mnist.png`, fullPage: true });

    // The digits model, downloaded and loaded back while a 2-D set is shown, brings the digits back with it.
    const score = await page.$eval('#gallery-score', (el) => el.textContent);
    const saved = await download(page);
    expect(saved.name).toBe('webgrad-mnist-784-128-10.safetensors');
    await choose(page, '#dataset', 'moons');
    await upload(page, saved.name, saved.bytes);
    await page.waitForFunction(() => /validation accuracy/.test(document.getElementById('status')!.textContent!), {
      timeout: 60_000,
    });
    expect(await page.$eval('#dataset', (el) => (el as HTMLSelectElement).value)).toBe('mnist');
    const restored = await page.$eval('#stat-val-accuracy', (el) => Number((el as HTMLElement).dataset.value));
    expect(restored).toBeCloseTo(log[1].valAccuracy, 3);
    // Guesses under the test digits from the loaded model (on the CPU before training): as many right as before.
    await page.waitForFunction(
      (s) => document.getElementById('gallery-score')!.textContent === s,
      { timeout: 10_000 },
      score,
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  it('trains in a dedicated Worker: no task on the main thread takes over 50 ms while it trains', async () => {
    // Installed before the page's scripts: every long task (over 50 ms, the Long Tasks API's threshold) the main
    // thread runs, and the times the page redraws what the model predicts (the regions' drawImage, the gallery's
    // score). The API times tasks by the wall clock: on a machine whose cores are all busy (SwiftShader trains on
    // them too) a task of a few ms that waits for a core counts as long as it waited. Traced, the page's tasks
    // while training take at most about 11 ms of CPU.
    const { page, errors } = await open(browser, (p) =>
      p.evaluateOnNewDocument(() => {
        const watch: Watch = { tasks: [], redraws: [], started: Number.NaN, done: Number.NaN };
        (window as unknown as { watch: Watch }).watch = watch;
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) watch.tasks.push({ start: e.startTime, duration: e.duration });
        }).observe({ type: 'longtask', buffered: true });
        const drawImage = CanvasRenderingContext2D.prototype.drawImage;
        CanvasRenderingContext2D.prototype.drawImage = function (this: CanvasRenderingContext2D, ...args: never[]) {
          if (this.canvas.id === 'regions') watch.redraws.push(performance.now());
          return (drawImage as (...a: never[]) => void).apply(this, args);
        } as typeof drawImage;
        document.addEventListener('DOMContentLoaded', () => {
          const score = document.getElementById('gallery-score')!;
          new MutationObserver(() => watch.redraws.push(performance.now())).observe(score, { childList: true });
        });
      }),
    );
    await expectReady(page);
    // The trainer's worker is the page's one dedicated worker.
    expect(page.workers()).toHaveLength(1);

    // Two spirals, 2,000 rows through 64-64-64, 64 rows a step: 32 steps an epoch, the regions redrawn as it learns.
    await setValue(page, '#epochs', '4');
    const spiral = await watchedRun(page);
    expect(spiral.log).toHaveLength(4);
    expect(spiral.log[3].loss).toBeLessThan(spiral.log[0].loss);
    expect(spiral.redraws).toBeGreaterThanOrEqual(2);

    // 32,768 MNIST digits (25 MB of pixels), 4,096 a step. Trained on the main thread, the fit's upload of the set
    // alone held the page for well over 50 ms; in the worker it does not.
    await choose(page, '#dataset', 'mnist');
    await choose(page, '#rows', '32768');
    await setValue(page, '#batch', '12');
    await setValue(page, '#epochs', '1');
    const mnist = await watchedRun(page, spiral.done);
    expect(mnist.log).toHaveLength(1);
    expect(mnist.redraws).toBeGreaterThanOrEqual(1);

    expect(spiral.long).toEqual([]);
    expect(mnist.long).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('trains on a CSV file of its own: regression scored in its units, a scatter plot, errors in the page', async () => {
    const { page, errors } = await open(browser);
    await expectReady(page);
    await page.select('#dataset', 'csv');
    await waitForState(page, 'no-data');
    expect(await status(page)).toMatch(/Pick a CSV file/);
    expect(await page.$eval('#start', (el) => (el as HTMLButtonElement).disabled)).toBe(true);
    expect(await visible(page, '#view-2d')).toBe(false);

    // A malformed file: the library's message, with its line, in the page; nothing thrown, nothing logged.
    await uploadCsv(page, 'ragged.csv', 'a,b,c\n1,2,3\n4,5\n');
    await waitForState(page, 'failed');
    expect(await status(page)).toMatch(/^Error: ragged\.csv: CSV line 3: expected 3 cells \(as on line 1\), found 2/);
    expect(await visible(page, '#csv-error')).toBe(true);
    expect(await text(page, '#csv-error')).toMatch(/CSV line 3/);

    // A missing cell names its row and column until the page is told to fill it.
    const csv = noisyLinear(200);
    const gaps = csv.replace(/\n([^,\n]+),/, '\n,');
    await uploadCsv(page, 'gaps.csv', gaps);
    await waitForState(page, 'failed');
    expect(await status(page)).toMatch(/gaps\.csv: CSV line 2, column 1 \("x1"\): the feature is missing/);
    expect(await status(page)).toMatch(/Missing cells setting/);
    await choose(page, '#csv-impute', 'mean');
    expect(await text(page, '#csv-error')).toBe('');
    await page.select('#csv-impute', '');
    await waitForState(page, 'failed');

    // 200 rows of y = 3·x1 − 2·x2 + 10 + noise: regression, detected and said why.
    await uploadCsv(page, 'linear.csv', csv);
    await expectReady(page);
    expect(await text(page, '#csv-info')).toMatch(/^linear\.csv: 200 rows × 3 columns, comma-separated, with a header/);
    expect(await text(page, '#csv-task-note')).toMatch(/^regression: the label column holds numbers with a fraction/);
    expect(await page.$eval('#csv-label', (el) => (el as HTMLSelectElement).value)).toBe('2');
    expect(await page.$eval('#loss', (el) => (el as HTMLSelectElement).value)).toBe('mse');
    expect(await text(page, '#param-count')).toMatch(/^2 → 64 → 1 ·/);
    // Epochs for about 1,500 steps at 32 rows a step, as the command line gives the file: 160 rows, 5 steps each.
    expect(await page.$eval('#epochs', (el) => (el as HTMLInputElement).value)).toBe('300');
    expect(await visible(page, '#stat-val-r2')).toBe(true);
    expect(await visible(page, '#stat-accuracy')).toBe(false);
    expect(await page.$eval('#view-table', (el) => (el as HTMLElement).dataset.rows)).toBe('40');
    expect(await text(page, '#table-count')).toBe('40 validation rows');

    // Two label columns: regression on both, the first one plotted.
    await page.select('#csv-label', '1', '2');
    await expectReady(page);
    expect(await text(page, '#csv-task-note')).toMatch(/^regression: 2 label columns\. Square loss on x2, y/);
    expect(await text(page, '#param-count')).toMatch(/^1 → 64 → 2 ·/);
    expect(await text(page, '#table-note')).toMatch(/first of 2 targets/);
    await choose(page, '#csv-label', '2');

    await setValue(page, '#lr', '0.01');
    await setValue(page, '#epochs', '12');
    await page.click('#start');
    await waitForState(page, 'done', 90_000);
    // Each epoch's scores come once its validation rows are predicted.
    await page.waitForFunction(() => document.querySelectorAll('#epoch-log tr[data-val-r2]').length === 12);
    const log = await page.$$eval('#epoch-log tr', (rows) =>
      rows.reverse().map((r) => ({ rmse: Number(r.dataset.valRmse), r2: Number(r.dataset.valR2) })),
    );
    const scores = await page.evaluate(() => ({
      rmse: Number(document.getElementById('stat-val-rmse')!.dataset.value),
      r2: Number(document.getElementById('stat-val-r2')!.dataset.value),
    }));
    console.log(`linear.csv: validation RMSE ${scores.rmse.toFixed(3)}, R² ${scores.r2.toFixed(3)}`, log.at(-1));
    expect(scores.r2).toBeGreaterThan(0.5);
    expect(scores.r2).toBeLessThanOrEqual(1);
    // In y's units: the noise's 0.5 is the floor, y's own spread (about 2.1) what a constant guess scores.
    expect(scores.rmse).toBeGreaterThan(0.3);
    expect(scores.rmse).toBeLessThan(1.5);
    expect(await text(page, '#stat-val-r2')).toBe(scores.r2.toFixed(3));
    // The scatter plot: a canvas drawn with the 40 validation rows.
    expect(await page.$eval('#scatter', (el) => (el as HTMLElement).dataset.points)).toBe('40');
    expect(await page.$eval('#scatter canvas', (c) => (c as HTMLCanvasElement).width)).toBeGreaterThan(100);
    expect(await chartInk(page, 'scatter')).toBeGreaterThan(500);
    expect(await text(page, '#table-title')).toBe('Predicted against true y');
    await page.screenshot({ path: `${artifacts}demo-csv-regression.png`, fullPage: true });

    // The model file carries the preprocessing, as `webgrad train --out` writes it; the page does not load it.
    const saved = await download(page);
    expect(saved.name).toBe('webgrad-linear-2-64-1.safetensors');
    const file = decodeModel(saved.bytes);
    expect(file.preprocessing).toMatchObject({ task: 'regression', features: ['x1', 'x2'], labels: ['y'] });
    await upload(page, saved.name, saved.bytes);
    await page.waitForFunction(() => /trained on a table/.test(document.getElementById('model-note')!.textContent!));
    expect(await state(page)).toBe('done');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('trains on a CSV file of classes: the task and classes named, accuracy as for the other sets', async () => {
    const { page, errors } = await open(browser);
    await expectReady(page);
    // Dropped on the page while the spirals are shown: the page switches to the file.
    const iris = readFileSync(fileURLToPath(new URL('./fixtures/iris.csv', import.meta.url)), 'utf8');
    await page.evaluate((text) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], 'iris.csv', { type: 'text/csv' }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, iris);
    await page.waitForFunction(() => document.getElementById('csv-info')!.textContent!.startsWith('iris.csv'));
    expect(await page.$eval('#dataset', (el) => (el as HTMLSelectElement).value)).toBe('csv');
    await expectReady(page);
    expect(await text(page, '#csv-info')).toMatch(/^iris\.csv: 150 rows × 5 columns/);
    expect(await text(page, '#csv-task-note')).toMatch(
      /^classification: the label column holds text \("setosa"\): 3 classes\. Classes: setosa, versicolor, virginica\./,
    );
    expect(await text(page, '#param-count')).toMatch(/^4 → 64 → 3 ·/);
    expect(await visible(page, '#stat-val-accuracy')).toBe(true);
    expect(await visible(page, '#stat-val-r2')).toBe(false);
    expect(await page.$$eval('#class-table tbody td:first-child', (tds) => tds.map((td) => td.textContent))).toEqual([
      'setosa',
      'versicolor',
      'virginica',
    ]);

    await setValue(page, '#lr', '0.01');
    await setValue(page, '#epochs', '15');
    await page.click('#start');
    await waitForState(page, 'done', 90_000);
    const log = await epochLog(page);
    expect(log).toHaveLength(15);
    expect(log[14].loss).toBeLessThan(log[0].loss);
    expect(log[14].valAccuracy).toBeGreaterThan(0.8);
    // The classes' table scores the trained model's validation rows as fit did.
    await page.waitForFunction(
      (a) => Math.abs(Number(document.getElementById('class-table')!.dataset.accuracy) - a) < 1e-6,
      { timeout: 10_000 },
      log[14].valAccuracy,
    );
    expect(await legend(page, 'chart-accuracy')).toEqual([
      expect.stringMatching(/^\d+\.\d%$/),
      `${(log[14].valAccuracy * 100).toFixed(1)}%`,
    ]);
    await page.screenshot({ path: `${artifacts}demo-csv-iris.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('says why a first visit without a GPU takes longer to start, and says nothing of it on the next', async () => {
    // A context of its own has an empty IndexedDB: a first visit, whatever the other tests did.
    const context = await browser.createBrowserContext();
    const visit = async () => {
      const page = await context.newPage();
      // Every text the status line shows while the page loads.
      await page.evaluateOnNewDocument(() => {
        const texts: string[] = [];
        Object.assign(window, { statuses: texts });
        new MutationObserver(() => {
          const text = document.getElementById('status')?.textContent ?? '';
          if (text && texts[texts.length - 1] !== text) texts.push(text);
        }).observe(document, { subtree: true, childList: true, characterData: true });
      });
      await page.goto(server.url, { waitUntil: 'load' });
      await settle(page);
      const statuses = (await page.evaluate('window.statuses')) as string[];
      const adapter = await page.$eval('#adapter-name', (el) => el.textContent ?? '');
      await page.close();
      return { explained: statuses.some((t) => t.includes('first times its matmul kernels')), adapter };
    };
    try {
      const first = await visit();
      const second = await visit();
      // Timing the kernels takes seconds only where shaders run on the CPU (SwiftShader here).
      if (/swiftshader|llvmpipe|lavapipe|warp|software/i.test(first.adapter)) expect(first.explained).toBe(true);
      expect(second.explained).toBe(false);
    } finally {
      await context.close();
    }
  });

  it('says plainly that WebGPU is missing, and how to enable it', async () => {
    const plain = await launchBrowser({ webgpu: false });
    try {
      const { page, errors } = await open(plain);
      expect(await state(page)).toBe('no-webgpu');
      const note = await page.$eval('#no-webgpu', (el) => ({
        visible: !(el as HTMLElement).hidden && (el as HTMLElement).offsetHeight > 0,
        text: el.textContent ?? '',
      }));
      expect(note.visible).toBe(true);
      expect(note.text).toContain('WebGPU is not available');
      expect(note.text).toContain('chrome://flags');
      expect(await page.$eval('#start', (el) => (el as HTMLButtonElement).disabled)).toBe(true);
      await page.screenshot({ path: `${artifacts}demo-no-webgpu.png` });
      expect(errors).toEqual([]);
    } finally {
      await plain.close();
    }
  });
});
