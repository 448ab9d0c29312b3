#!/usr/bin/env node
// Benchmark runner: serves bench/ with vite, opens it in headless Chromium with WebGPU, runs the cases
// one by one in the page (bench/page/main.ts), prints tables and writes bench/results/latest.json.
//
//   node bench/run.js [--smoke] [--only=peak,matmul,train] [--reps=N] [--warmup=N] [--target-ms=MS]
//                     [--sizes=256,512] [--batches=64,1024] [--train-variants=regular,tiled] [--out=FILE]
//                     [--verbose]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forwardConsole, launchBrowser, startViteServer } from '../scripts/browser.js';
import { describeLoad, LoadLog } from './load.js';
import { fmt, mib, printTable, printTraining } from './report.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const PARTS = ['peak', 'matmul', 'train'];

const USAGE = `usage: node bench/run.js [options]
  --smoke              tiny sizes, 1 repetition (a quick check that everything runs)
  --only=LIST          parts to run, from ${PARTS.join(',')} (default: all)
  --reps=N             timed repetitions per case, median reported (default 5, smoke 1)
  --warmup=N           untimed runs per case before timing (default 1)
  --target-ms=MS       repeat the operation within a repetition until it lasts about MS (default 50, smoke 0)
  --sizes=LIST         square matmul sizes (default 256,512,1024,300,777)
  --batches=LIST       training batch sizes (default 64,1024,8192)
  --train-variants=L   webgrad matmul kernels to train with, from regular,wide,subgroup,tiled
                       (default: regular and the one webgrad picks on the adapter)
  --out=FILE           JSON output (default bench/results/latest.json)
  --verbose            forward the page console and vite logs`;

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {Record<string, unknown>} */
  const page = {};
  const cli = { verbose: false, out: join(benchDir, 'results', 'latest.json') };
  const ints = (/** @type {string} */ v, /** @type {string} */ flag) =>
    v.split(',').map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: not a non-negative integer: '${s}'`);
      return n;
    });
  for (const arg of argv) {
    const [flag, value] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, ''];
    switch (flag) {
      case '--smoke':
        page.smoke = true;
        break;
      case '--verbose':
        cli.verbose = true;
        break;
      case '--only': {
        const only = value.split(',').filter(Boolean);
        const bad = only.filter((p) => !PARTS.includes(p));
        if (bad.length || !only.length) throw new Error(`--only: expected some of ${PARTS.join(',')}, got '${value}'`);
        page.only = only;
        break;
      }
      case '--reps':
        [page.reps] = ints(value, flag);
        if (page.reps === 0) throw new Error('--reps must be at least 1');
        break;
      case '--warmup':
        [page.warmup] = ints(value, flag);
        break;
      case '--target-ms':
        [page.targetMs] = ints(value, flag);
        break;
      case '--sizes':
        page.sizes = ints(value, flag);
        break;
      case '--batches':
        page.batches = ints(value, flag);
        break;
      case '--train-variants': {
        const variants = value.split(',').filter(Boolean);
        const known = ['regular', 'wide', 'subgroup', 'tiled'];
        if (!variants.length || variants.some((v) => !known.includes(v))) {
          throw new Error(`--train-variants: expected some of ${known.join(',')}, got '${value}'`);
        }
        page.trainVariants = variants;
        break;
      }
      case '--out':
        cli.out = value;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option '${arg}'\n${USAGE}`);
    }
  }
  return { page, cli };
}

/**
 * @typedef {{ name: string, library: string, size?: number, batch?: number, form?: string, gflops?: number | null,
 *   gbps?: number | null, samplesPerSec?: number | null, msMedian: number | null, timing?: string, note?: string,
 *   peakGflops?: number | null, otherLoad?: import('./load.js').OtherLoad | null,
 *   error?: string }} Result
 */

/** @param {any} adapter @param {Result[]} results */
function printReport(adapter, results) {
  console.log(
    `\nAdapter: ${[adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean).join(' / ')}` +
      `${adapter.isFallbackAdapter ? ' (fallback adapter)' : ''}`,
  );
  console.log(`Kernel timing: ${adapter.timing}; page cross-origin isolated: ${adapter.crossOriginIsolated}`);
  console.log(
    `Limits: ${Object.entries(adapter.limits)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
  );

  const peak = results.filter((r) => ['fma-peak', 'copy-shader', 'copyBufferToBuffer'].includes(r.name));
  if (peak.length) {
    printTable(
      'Adapter peak (webgpu)',
      ['kernel', 'size', 'rate', 'ms', 'timing'],
      peak.map((r) => [
        r.name,
        r.name === 'fma-peak' ? `${fmt(r.size)} inv` : mib(r.size ?? 0),
        r.error ? 'ERROR' : r.gflops != null ? `${fmt(r.gflops)} GFLOP/s` : `${fmt(r.gbps)} GB/s`,
        fmt(r.msMedian),
        r.timing ?? '',
      ]),
    );
  }

  const mm = results.filter((r) => r.name.startsWith('matmul-'));
  if (mm.length) {
    /** @type {Map<string, Record<string, Result>>} */
    const byCase = new Map();
    for (const r of mm) {
      const key = `${String(r.size).padStart(4)} ${r.form}`;
      byCase.set(key, { ...byCase.get(key), [r.library]: r });
    }
    // Each matmul's share of the FMA peak timed in the same rounds (bench/page/matmul.ts benchMatmulSize).
    const share = (/** @type {Result | undefined} */ r) =>
      r?.gflops && r.peakGflops ? ` (${Math.round((100 * r.gflops) / r.peakGflops)}%)` : '';
    const rate = (/** @type {Result | undefined} */ r) => (r?.error ? 'ERROR' : `${fmt(r?.gflops)}${share(r)}`);
    const ours = `webgrad-${adapter.webgradMatmul ?? 'regular'}`;
    const mmLibs = [...new Set(mm.map((r) => r.library))];
    printTable(
      `Matmul, GFLOP/s (2·n³ / time; % of the FMA peak timed with it; ms per matmul; timed by ${mm[0].timing}). ` +
        `webgrad uses '${adapter.webgradMatmul}' on this adapter`,
      ['   n form', ...mmLibs.flatMap((lib) => [lib, 'ms']), 'webgrad/tfjs'],
      [...byCase].map(([key, cells]) => {
        const t = cells['tfjs-webgpu'];
        const best = cells[ours];
        return [
          key.replace('ABt', 'A·Bᵀ').replace('AtB', 'Aᵀ·B').replace('AB', 'A·B'),
          ...mmLibs.flatMap((lib) => [rate(cells[lib]), fmt(cells[lib]?.msMedian)]),
          t?.gflops && best?.gflops ? `${(best.gflops / t.gflops).toFixed(2)}x` : '-',
        ];
      }),
    );
  }

  printTraining(adapter, results);
  const failed = results.filter((r) => r.error);
  for (const r of failed) console.log(`FAILED ${r.name} ${r.library} ${r.size ?? r.batch ?? ''}: ${r.error}`);
}

/** One result of a case, for the progress lines. @param {any} c @param {Result} r */
function describe(c, r) {
  if (c.part === 'peak') return `peak ${c.which}`;
  if (c.part === 'matmul') return `matmul ${r.library} ${r.form} ${c.size}`;
  return `train ${r.library} batch ${c.batch}`;
}

/** A case in a few words, for the report's warning. @param {any} c */
function describeCase(c) {
  if (c.part === 'peak') return `peak ${c.which}`;
  return c.part === 'matmul' ? `matmul ${c.size}` : `train batch ${c.batch}`;
}

/** @param {Result} r */
function rateOf(r) {
  if (r.error) return `ERROR ${r.error}`;
  if (r.gflops != null) return `${fmt(r.gflops)} GFLOP/s`;
  if (r.gbps != null) return `${fmt(r.gbps)} GB/s`;
  if (r.samplesPerSec != null) return `${fmt(r.samplesPerSec)} samples/s`;
  return 'not available';
}

async function main() {
  const { page: pageOptions, cli } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const server = await startViteServer({ root: benchDir, verbose: cli.verbose });
  const browser = await launchBrowser({
    webgpu: true,
    verbose: false,
    // One case per page.evaluate; a big training batch on a software adapter can take minutes.
    protocolTimeout: pageOptions.smoke ? 120_000 : 20 * 60_000,
  });
  try {
    // Each part (peak, matmul, train) runs in a page of its own, so that what one part leaves behind (the GPU
    // memory and pipelines of TensorFlow.js and of webgrad's engines, a heap to collect) weighs on no other.
    const openPage = async () => {
      const page = await browser.newPage();
      if (cli.verbose) forwardConsole(page);
      else {
        page.on(
          'console',
          (m) => ['error', 'warn'].includes(m.type()) && console.error(`[page] ${m.type()}: ${m.text()}`),
        );
        page.on('pageerror', (e) => console.error(`[page] uncaught: ${e instanceof Error ? e.message : e}`));
      }
      await page.goto(server.url, { waitUntil: 'load' });
      await page.waitForFunction(() => 'window' in globalThis && '__bench' in window, { timeout: 60_000 });
      return page;
    };
    let page = await openPage();
    const adapter = await page.evaluate(() => window.__bench.adapterReport());
    // Training runs with the regular kernel and with the one webgrad picks on this adapter, when they differ.
    const trainVariants = pageOptions.trainVariants ?? [...new Set(['regular', adapter.webgradMatmul])];
    const options = await page.evaluate((o) => window.__bench.resolveOptions(o), { ...pageOptions, trainVariants });
    const cases = await page.evaluate((o) => window.__bench.listCases(o), options);
    console.error(
      `webgrad bench: ${adapter.description || adapter.architecture || adapter.vendor}, ${cases.length} cases`,
    );

    /** @type {Result[]} */
    const results = [];
    const loads = new LoadLog([process.pid, browser.process()?.pid].filter((pid) => pid !== undefined));
    for (const [i, c] of cases.entries()) {
      if (i > 0 && c.part !== cases[i - 1].part) {
        await page.close();
        page = await openPage();
      }
      const t0 = performance.now();
      loads.start();
      /** @type {Result[]} */
      let rs;
      try {
        rs = await page.evaluate((cc, o) => window.__bench.runCase(cc, o), c, options);
      } catch (e) {
        const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
        const libraries = c.part === 'peak' ? ['webgpu'] : c.libraries;
        const forms = c.part === 'matmul' ? ['ABt', 'AB', 'AtB'] : [undefined];
        rs = forms.flatMap((form) =>
          libraries.map((/** @type {string} */ library) => {
            const name = c.part === 'peak' ? c.which : form ? `matmul-${form}` : c.part;
            /** @type {Result} */
            const r = { name, library, msMedian: null, error: msg };
            if ('size' in c) r.size = c.size;
            if ('batch' in c) r.batch = c.batch;
            if (form) r.form = form;
            return r;
          }),
        );
      }
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      const load = loads.end(describeCase(c), rs);
      for (const [j, r] of rs.entries()) {
        const tail = [`${seconds} s${rs.length > 1 ? ' for the case' : ''}`, describeLoad(load)].filter(Boolean);
        const took = j === rs.length - 1 ? ` (${tail.join('; ')})` : '';
        console.error(`  [${i + 1}/${cases.length}] ${describe(c, r)}: ${rateOf(r)}${took}`);
      }
      results.push(...rs);
    }

    printReport(adapter, results);
    const warning = loads.warning();
    if (warning) console.log(`\n${warning}`);
    const seconds = (performance.now() - started) / 1000;
    const report = {
      adapter,
      browser: await browser.version(),
      date: new Date().toISOString(),
      options,
      durationSec: Number(seconds.toFixed(1)),
      results,
    };
    mkdirSync(dirname(cli.out), { recursive: true });
    writeFileSync(cli.out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\n${results.length} results in ${seconds.toFixed(1)} s -> ${relative(process.cwd(), cli.out)}`);
    if (results.some((r) => r.error)) process.exitCode = 1;
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
