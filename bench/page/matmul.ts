// Matmul in the three training forms: TensorFlow.js WebGPU and webgrad, in GFLOP/s = 2·m·n·k / time.
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import {
  type BenchOptions,
  type GpuTimer,
  type MatmulForm,
  median,
  type Result,
  round4,
  type TimingMethod,
  timeOp,
  timeRuns,
} from './common.js';
import { benchWebgradMatmul } from './webgrad.js';

/** The matmul kernels of webgrad, benchmarked side by side (EngineOptions.matmul). */
export type WebgradVariant = 'regular' | 'wide' | 'subgroup' | 'tiled';
export const WEBGRAD_VARIANTS: readonly WebgradVariant[] = ['regular', 'wide', 'subgroup', 'tiled'];

/** Shapes of A and B as stored for C (m×n) = op(A)·op(B); see MatmulForm. */
export function operandShapes(form: MatmulForm, m: number, n: number, k: number): [[number, number], [number, number]] {
  switch (form) {
    case 'ABt':
      return [
        [m, k],
        [n, k],
      ];
    case 'AB':
      return [
        [m, k],
        [k, n],
      ];
    case 'AtB':
      return [
        [k, m],
        [k, n],
      ];
  }
}

/** Flushes TensorFlow.js's pending WebGPU commands and waits until the GPU has run them. */
export async function syncTfWebgpu(): Promise<void> {
  const backend = tf.backend() as WebGPUBackend;
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
  await backend.device.queue.onSubmittedWorkDone();
}

export async function useBackend(name: 'webgpu' | 'wasm'): Promise<void> {
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`tfjs backend ${name} failed to start`);
  await tf.ready();
}

function matmulResult(
  library: string,
  form: MatmulForm,
  size: number,
  samples: number[] | null,
  iters?: number,
  timing: TimingMethod = 'wall',
) {
  const ms = samples ? median(samples) : null;
  const r: Result = {
    name: `matmul-${form}`,
    library,
    form,
    size,
    gflops: ms ? round4((2 * size ** 3) / (ms * 1e6)) : null,
    msMedian: ms ? round4(ms) : null,
    timing,
  };
  if (samples) Object.assign(r, { msSamples: samples.map(round4), iters });
  else r.note = 'not available';
  return r;
}

/**
 * tf.matMul on the WebGPU backend. With timestamp queries, the time is tf.time()'s kernelMs: the backend times
 * every program it runs for the op (transposes included) with timestamps, as webgrad's pass is timed below.
 */
export async function benchMatmulTf(
  form: MatmulForm,
  size: number,
  opts: BenchOptions,
  timing: TimingMethod,
): Promise<Result> {
  await useBackend('webgpu');
  const [sa, sb] = operandShapes(form, size, size, size);
  const a = tf.randomUniform(sa, -1, 1);
  const b = tf.randomUniform(sb, -1, 1);
  const ops = (iters: number) => {
    for (let i = 0; i < iters; i++) tf.matMul(a, b, form === 'AtB', form === 'ABt').dispose();
  };
  const once = async (iters: number) => {
    if (timing === 'gpu-timestamp') {
      const info = await tf.time(() => ops(iters));
      if (typeof info.kernelMs !== 'number' || !(info.kernelMs > 0)) {
        throw new Error(`tf.time() gave no kernel time: ${JSON.stringify(info.kernelMs)}`);
      }
      return info.kernelMs;
    }
    const t0 = performance.now();
    ops(iters);
    await syncTfWebgpu();
    return performance.now() - t0;
  };
  try {
    const { samples, iters } = await timeOp(once, opts);
    return matmulResult('tfjs-webgpu', form, size, samples, iters, timing);
  } finally {
    tf.dispose([a, b]);
  }
}

/**
 * webgrad's matmul with one kernel variant ('webgrad-regular', 'webgrad-wide', 'webgrad-tiled'). With timestamp queries, the
 * repetition's matmuls are recorded into one pass whose begin and end timestamps give the time.
 */
export async function benchMatmulWebgrad(
  device: GPUDevice,
  timer: GpuTimer,
  variant: WebgradVariant,
  form: MatmulForm,
  size: number,
  opts: BenchOptions,
): Promise<Result> {
  const library = `webgrad-${variant}`;
  // ---- webgrad slot: bench/page/webgrad.ts benchWebgradMatmul returns a case, or null = not available.
  const c = await benchWebgradMatmul(device, form, size, size, size, variant);
  if (!c) return matmulResult(library, form, size, null);
  try {
    const record = c.record;
    if (timer.method === 'gpu-timestamp' && record) {
      const once = (iters: number) =>
        timer.timePass((pass) => {
          for (let i = 0; i < iters; i++) record(pass);
        });
      const { samples, iters } = await timeOp(once, opts);
      return matmulResult(library, form, size, samples, iters, 'gpu-timestamp');
    }
    const { samples, iters } = await timeRuns(device, c, opts);
    return matmulResult(library, form, size, samples, iters);
  } finally {
    c.dispose();
  }
}
