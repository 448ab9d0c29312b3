// The training part of the benchmark in Node: the cases of bench/page/train.ts, run as the page runs them, on Dawn
// through the npm package `webgpu` (webgrad/node's device setup: SwiftShader where there is no GPU). Peers:
// TensorFlow.js wasm (Node has no wasm threads in tfjs: one thread, SIMD) and TensorFlow.js WebGPU on a
// navigator.gpu made from the same package. Prints the table bench/run.js prints and writes JSON.
//
//   npm run bench:node -- [--smoke] [--reps=N] [--warmup=N] [--target-ms=MS] [--batches=64,1024,8192]
//                         [--train-variants=regular,wide] [--only=train] [--out=FILE]
import { register } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../src/index.js';
import type { Case, PageOptions } from './page/cases.js';
import { firstLine, type Result } from './page/common.js';
import type { WebgradVariant } from './page/matmul.js';
import { describeLoad, LoadLog } from './load.js';
// @ts-expect-error plain JavaScript helper shared with bench/run.js
import { printTraining as printTrainingJs } from './report.js';

const printTraining: (adapter: { webgradMatmul?: string }, rows: Result[]) => void = printTrainingJs;

const benchDir = dirname(fileURLToPath(import.meta.url));
const VARIANTS: readonly WebgradVariant[] = ['regular', 'wide', 'subgroup', 'tiled'];

const USAGE = `usage: npm run bench:node -- [options]
  --smoke              batch 16, 1 repetition (a quick check that everything runs)
  --reps=N             timed repetitions per case, median reported (default 5, smoke 1)
  --warmup=N           untimed runs per case before timing (default 1)
  --target-ms=MS       repeat the step within a repetition until it lasts about MS (default 50, smoke 0)
  --batches=LIST       training batch sizes (default 64,1024,8192)
  --train-variants=L   webgrad matmul kernels to train with, from ${VARIANTS.join(',')}
                       (default: regular and the one webgrad picks on the adapter)
  --only=train         the only part there is in Node (peak and matmul need the page)
  --out=FILE           JSON output (default bench/results/node-latest.json)`;

function parseArgs(argv: string[]): { options: Partial<PageOptions>; out: string } {
  const options: Partial<PageOptions> = { only: ['train'] };
  let out = join(benchDir, 'results', 'node-latest.json');
  const ints = (value: string, flag: string) =>
    value.split(',').map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 0 || s === '') throw new Error(`${flag}: not a non-negative integer: '${s}'`);
      return n;
    });
  for (const arg of argv) {
    const eq = arg.indexOf('=');
    const [flag, value] = eq < 0 ? [arg, ''] : [arg.slice(0, eq), arg.slice(eq + 1)];
    if (flag === '--smoke') options.smoke = true;
    else if (flag === '--reps') {
      [options.reps] = ints(value, flag);
      if (options.reps === 0) throw new Error('--reps must be at least 1');
    } else if (flag === '--warmup') [options.warmup] = ints(value, flag);
    else if (flag === '--target-ms') [options.targetMs] = ints(value, flag);
    else if (flag === '--batches') options.batches = ints(value, flag);
    else if (flag === '--train-variants') {
      const variants = value.split(',') as WebgradVariant[];
      if (!value || variants.some((v) => !VARIANTS.includes(v))) {
        throw new Error(`--train-variants: expected some of ${VARIANTS.join(',')}, got '${value}'`);
      }
      options.trainVariants = variants;
    } else if (flag === '--only') {
      if (value !== 'train') throw new Error(`--only: only 'train' runs in Node, got '${value}'`);
    } else if (flag === '--out') out = value;
    else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option '${arg}'\n${USAGE}`);
  }
  return { options, out };
}

/**
 * The GPU for every library: webgrad/node's createEngine finds the adapter (and points Vulkan at SwiftShader where
 * there is no GPU); its device runs webgrad's cases. TensorFlow.js asks navigator.gpu for an adapter itself, as in
 * a page, so navigator.gpu is a GPU object of the same package made after that setup: the same adapter.
 */
async function setUpGpu() {
  const { createEngine } = await import('../src/node.js');
  const engine = await createEngine();
  const device = engine.device;
  const gpuErrors: string[] = [];
  device.addEventListener('uncapturederror', (e) => gpuErrors.push((e as GPUUncapturedErrorEvent).error.message));
  let tfWebgpu: string | null = null;
  try {
    const { create } = await import('webgpu');
    const g = globalThis as { navigator?: { gpu?: GPU } };
    // Node 20 has no navigator; tfjs-backend-webgpu registers its backend at import only where navigator.gpu is.
    g.navigator ??= {};
    g.navigator.gpu ??= create([]);
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (error) {
    tfWebgpu = `tfjs-backend-webgpu did not load: ${error instanceof Error ? error.message : error}`;
  }
  return { engine, device, gpuErrors, tfWebgpu };
}

async function adapterReport(engine: Engine, picked: Engine) {
  const tf = await import('@tensorflow/tfjs-core');
  const info = engine.adapter;
  const device = engine.device;
  const limits = device.limits;
  const version = (await import('webgpu/package.json', { with: { type: 'json' } })).default.version;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: info.fallback,
    features: [...device.features].sort(),
    limits: { maxBufferSize: limits.maxBufferSize, maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize },
    timing: 'wall',
    runtime: `Node ${process.versions.node}, webgpu (Dawn) ${version}`,
    vulkanIcd: process.env.VK_ICD_FILENAMES ?? process.env.VK_ADD_DRIVER_FILES ?? null,
    tfjs: tf.version_core,
    webgradMatmul: picked.matmul.name,
    webgradTimings: picked.matmulTimings,
  };
}

async function main() {
  const { options: cli, out } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  // Before train.ts loads: its import of tfjs-core's gradients needs the hook (see tfjs-esm-hooks.js).
  register('./tfjs-esm-hooks.js', import.meta.url);
  const { engine, device, gpuErrors, tfWebgpu } = await setUpGpu();
  const { listCases, resolveOptions } = await import('./page/cases.js');
  const { benchTrainBatch } = await import('./page/train.js');
  const { engineFor } = await import('./page/webgrad.js');
  await import('@tensorflow/tfjs-backend-wasm');

  // The engine the webgrad cases build with 'auto': the kernel they train with, and the timings behind it.
  const adapter = await adapterReport(engine, await engineFor(device));
  const trainVariants = cli.trainVariants ?? [...new Set(['regular', adapter.webgradMatmul] as WebgradVariant[])];
  const options = resolveOptions({ ...cli, trainVariants });
  const cases = listCases(options).filter((c): c is Extract<Case, { part: 'train' }> => c.part === 'train');
  console.error(`webgrad Node bench: ${adapter.description || adapter.architecture}, ${cases.length} cases`);

  const results: Result[] = [];
  const loads = new LoadLog([process.pid]);
  for (const [i, c] of cases.entries()) {
    const t0 = performance.now();
    loads.start();
    const errorsBefore = gpuErrors.length;
    const failed = (library: string, error: string): Result => ({
      name: 'train-mlp-784-256-256-10',
      library,
      batch: c.batch,
      msMedian: null,
      error,
    });
    // TensorFlow.js WebGPU without a navigator.gpu: its row says why, the others run.
    const libraries = c.libraries.filter((l) => !(l === 'tfjs-webgpu' && tfWebgpu));
    let rs: Result[];
    try {
      rs = await benchTrainBatch(device, libraries, c.batch, options);
      await device.queue.onSubmittedWorkDone();
      if (gpuErrors.length > errorsBefore) {
        const error = `WebGPU errors: ${gpuErrors.slice(errorsBefore).join('; ')}`;
        rs = rs.map((r) => (r.library.startsWith('webgrad-') ? failed(r.library, error) : r));
      }
    } catch (e) {
      const error = firstLine(e);
      rs = libraries.map((l) => failed(l, error));
    }
    if (tfWebgpu && c.libraries.includes('tfjs-webgpu')) rs.unshift(failed('tfjs-webgpu', tfWebgpu));
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    const other = loads.end(`batch ${c.batch}`, rs);
    for (const r of rs) {
      if (r.library === 'tfjs-wasm') r.note = `${r.note ?? 'wasm'} (tfjs-backend-wasm runs no threads in Node)`;
      if (r.library === 'tfjs-webgpu' && !r.error) r.note = await tfAdapterNote();
      const rate = r.error ? `ERROR ${r.error}` : `${Math.round(r.samplesPerSec ?? 0)} samples/s`;
      console.error(`  [${i + 1}/${cases.length}] train ${r.library} batch ${c.batch}: ${rate}`);
    }
    console.error(`  batch ${c.batch}: ${[`${seconds} s`, describeLoad(other)].filter(Boolean).join('; ')}`);
    results.push(...rs);
  }

  printReport(adapter, results);
  const warning = loads.warning();
  if (warning) console.log(`\n${warning}`);
  const durationSec = Number(((performance.now() - started) / 1000).toFixed(1));
  const report = { adapter, date: new Date().toISOString(), options, durationSec, results };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${results.length} results in ${durationSec} s -> ${relative(process.cwd(), out)}`);
  engine.destroy();
  // tfjs-webgpu's device and navigator.gpu hold dawn.node's event loop handle: nothing else ends the process.
  process.exit(results.some((x) => x.error) ? 1 : 0);
}

/** The adapter TensorFlow.js WebGPU got from navigator.gpu, to show it is the one webgrad uses. */
async function tfAdapterNote(): Promise<string> {
  const tf = await import('@tensorflow/tfjs-core');
  const info = (tf.findBackend('webgpu') as unknown as { adapterInfo?: { vendor?: string; architecture?: string } })
    .adapterInfo;
  return `navigator.gpu from the webgpu package; adapter ${info?.vendor ?? '?'} / ${info?.architecture ?? '?'}`;
}

function printReport(adapter: Awaited<ReturnType<typeof adapterReport>>, results: Result[]) {
  const name = [adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean);
  console.log(`\nAdapter: ${name.join(' / ')}${adapter.isFallbackAdapter ? ' (fallback adapter)' : ''}`);
  console.log(`Runtime: ${adapter.runtime}; Vulkan drivers: ${adapter.vulkanIcd ?? 'the system default'}`);
  printTraining(adapter, results);
  for (const r of results.filter((x) => x.error)) console.log(`FAILED train ${r.library} ${r.batch}: ${r.error}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
