// Shared helpers to drive headless Chromium (benchmarks, browser tests, demo tests):
// a puppeteer launcher with or without WebGPU, and a vite dev server bound to 127.0.0.1.
//
// Machines without a GPU get WebGPU from SwiftShader (software Vulkan shipped with Debian's chromium),
// hence the Vulkan/SwiftShader flags. On a machine with a GPU, set WEBGPU_ADAPTER=default to let
// Chromium pick the hardware adapter instead.
import { createServer as createNetServer } from 'node:net';
import puppeteer from 'puppeteer';

/** Flags every launch gets: quiet, deterministic, no sandbox (containers, CI). */
const BASE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
];

/**
 * Flags that turn WebGPU on. --enable-webgpu-developer-features makes GPU timestamp queries unrounded
 * (Chrome otherwise quantises them to 100 us) and exposes more adapter info.
 * @returns {string[]}
 */
function webgpuArgs() {
  const args = ['--enable-unsafe-webgpu', '--enable-webgpu-developer-features', '--enable-features=Vulkan'];
  if ((process.env.WEBGPU_ADAPTER ?? 'swiftshader') === 'swiftshader') {
    args.push('--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--disable-vulkan-surface');
  }
  return args;
}

/**
 * Flags for a browser without WebGPU. Chromium 156 keeps navigator.gpu (no flag removes it), but without
 * --enable-unsafe-webgpu the software adapter is refused and --disable-gpu takes hardware adapters away:
 * navigator.gpu.requestAdapter() resolves null.
 */
const NO_WEBGPU_ARGS = ['--disable-gpu', '--disable-features=WebGPUService'];

/**
 * @typedef {object} LaunchOptions
 * @property {boolean} [webgpu=true] false: launch with WebGPU disabled (requestAdapter() resolves null).
 * @property {boolean} [verbose=false] forward every page's console messages and errors to the Node console.
 * @property {string[]} [args] extra Chromium flags.
 * @property {number} [protocolTimeout] ms a single DevTools call (e.g. page.evaluate) may take; puppeteer's default is 180 s.
 */

/**
 * Launches headless Chromium (process.env.CHROMIUM_PATH or /usr/bin/chromium).
 * @param {LaunchOptions} [options]
 * @returns {Promise<import('puppeteer').Browser>}
 */
export async function launchBrowser({ webgpu = true, verbose = false, args = [], protocolTimeout } = {}) {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: [...BASE_ARGS, ...(webgpu ? webgpuArgs() : NO_WEBGPU_ARGS), ...args],
    ...(protocolTimeout !== undefined ? { protocolTimeout } : {}),
  });
  if (verbose) {
    const attach = (/** @type {import('puppeteer').Page | null} */ page) => page && forwardConsole(page);
    for (const page of await browser.pages()) attach(page);
    browser.on('targetcreated', async (target) => attach(await target.page()));
  }
  return browser;
}

/**
 * Prints a page's console messages, uncaught errors and failed requests on the Node console.
 * @param {import('puppeteer').Page} page
 * @param {string} [prefix]
 */
export function forwardConsole(page, prefix = '[page]') {
  page.on('console', (msg) => {
    const type = msg.type();
    const log = type === 'error' ? console.error : type === 'warn' ? console.warn : console.log;
    log(`${prefix} ${type === 'log' ? '' : `${type}: `}${msg.text()}`);
  });
  page.on('pageerror', (err) => console.error(`${prefix} uncaught: ${err instanceof Error ? err.stack : err}`));
  page.on('requestfailed', (req) =>
    console.error(`${prefix} request failed: ${req.url()} ${req.failure()?.errorText}`),
  );
}

/** @returns {Promise<number>} a TCP port that was free on 127.0.0.1 a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts a vite dev server for `root` (its vite.config.* applies) on 127.0.0.1.
 * port 0 (default) picks a free port; vite moves to the next one if it is taken meanwhile.
 * @param {{ root: string, port?: number, verbose?: boolean }} options
 * @returns {Promise<{ url: string, close: () => Promise<void> }>} url ends with '/'.
 */
export async function startViteServer({ root, port = 0, verbose = false }) {
  const { createServer } = await import('vite');
  const server = await createServer({
    root,
    logLevel: verbose ? 'info' : 'warn',
    clearScreen: false,
    // No HMR: a file saved during a long benchmark or test must not reload the page under it.
    server: { host: '127.0.0.1', port: port || (await freePort()), strictPort: false, open: false, hmr: false },
  });
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr !== 'object') throw new Error('vite server has no TCP address');
  return { url: `http://127.0.0.1:${addr.port}/`, close: () => server.close() };
}
