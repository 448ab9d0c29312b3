// Benchmark page entry: exposes window.__bench, which bench/run.js drives case by case through puppeteer.
// From a browser console on the served page: `await __bench.run({ smoke: true })`.
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { type Case, listCases, type PageOptions, resolveOptions } from './cases.js';
import { GpuTimer, type Result } from './common.js';
import { benchMatmulSize } from './matmul.js';
import { measureOverhead, type OverheadCase } from './overhead.js';
import { benchPeak, fmaCase } from './peak.js';
import { benchTrainBatch } from './train.js';
import { engineFor } from './webgrad.js';

// The .wasm binaries are served from node_modules/@tensorflow/tfjs-backend-wasm/dist (bench/vite.config.js).
setWasmPaths('/tfjs-wasm/');
// As many threads as allowed: tfjs caps them at half the logical cores (at most 8). Threads need the cross-origin isolation
// that bench/vite.config.js sets up, otherwise tfjs falls back to the single-threaded binary.
setThreadsCount(navigator.hardwareConcurrency || 1);

let gpu: Promise<{ adapter: GPUAdapter; device: GPUDevice; timer: GpuTimer }> | undefined;
const gpuErrors: string[] = [];

/** The adapter and a device for the raw kernels and webgrad, with timestamp queries and the adapter's large limits. */
function getGpu() {
  gpu ??= (async () => {
    if (!navigator.gpu) throw new Error('navigator.gpu is missing: WebGPU is not enabled in this browser');
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned null');
    const wanted: GPUFeatureName[] = ['timestamp-query', 'subgroups'];
    const requiredFeatures = wanted.filter((feature) => adapter.features.has(feature));
    const l = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures,
      requiredLimits: {
        maxBufferSize: l.maxBufferSize,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      },
    });
    device.addEventListener('uncapturederror', (e) => {
      const msg = (e as GPUUncapturedErrorEvent).error.message;
      gpuErrors.push(msg);
      console.error(`WebGPU error: ${msg}`);
    });
    device.lost.then((info) => console.error(`WebGPU device lost (${info.reason}): ${info.message}`));
    return { adapter, device, timer: new GpuTimer(device) };
  })();
  return gpu;
}

const LIMIT_KEYS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Adapter identity, features and key limits, plus what shapes the measurements (timing method, isolation). */
export async function adapterReport() {
  const { adapter, device, timer } = await getGpu();
  const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  const engine = await engineFor(device); // 'auto', as a user's engine
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: info.isFallbackAdapter,
    subgroupMinSize: info.subgroupMinSize,
    subgroupMaxSize: info.subgroupMaxSize,
    features: [...adapter.features].sort(),
    limits: Object.fromEntries(LIMIT_KEYS.map((k) => [k, adapter.limits[k]])),
    timing: timer.method,
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    tfjs: tf.version_core,
    // The matmul kernel webgrad uses by default on this adapter (the 'webgrad' columns of the report), and the
    // timings that chose it.
    webgradMatmul: engine.matmul.name,
    webgradTimings: engine.matmulTimings,
  };
}

/** Runs one case: one result, or one per library for a training batch. */
export async function runCase(c: Case, options: Partial<PageOptions> = {}): Promise<Result[]> {
  const o = resolveOptions(options);
  const { device, timer } = await getGpu();
  const errorsBefore = gpuErrors.length;
  let results: Result[];
  if (c.part === 'peak') results = [await benchPeak(device, timer, c.which, o)];
  else if (c.part === 'matmul')
    results = await benchMatmulSize(device, timer, c.size, c.libraries, o, fmaCase(device, timer, o));
  else results = await benchTrainBatch(device, c.libraries, c.batch, o);
  await device.queue.onSubmittedWorkDone();
  if (gpuErrors.length > errorsBefore) {
    const error = `WebGPU errors: ${gpuErrors.slice(errorsBefore).join('; ')}`;
    // Only webgrad (and the peak kernels) use this device, TensorFlow.js WebGPU has its own: webgrad's rows
    // carry the error.
    if (c.part === 'peak') throw new Error(error);
    for (const r of results)
      if (r.library.startsWith('webgrad-')) Object.assign(r, { error, samplesPerSec: null, gflops: null });
  }
  return results;
}

/** Runs every selected case in this page and logs each result (for manual use; run.js calls runCase). */
export async function run(options: Partial<PageOptions> = {}) {
  const o = resolveOptions(options);
  const adapter = await adapterReport();
  const results: Result[] = [];
  for (const c of listCases(o)) {
    for (const r of await runCase(c, o)) {
      console.log(JSON.stringify(r));
      results.push(r);
    }
  }
  return { adapter, results };
}

/** Where a small training step's wall time goes (bench/overhead.ts compares this page with Node). */
async function overhead(c: OverheadCase) {
  return measureOverhead((await getGpu()).device, c);
}

// tf is exposed for experiments from the console or puppeteer (e.g. tf.profile, tf.env flags).
const api = { resolveOptions, listCases, adapterReport, runCase, run, overhead, tf };
declare global {
  interface Window {
    __bench: typeof api;
  }
}
window.__bench = api;
