// Matmul in the three training forms: TensorFlow.js WebGPU and webgrad, in GFLOP/s = 2·m·n·k / time.
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { type BenchOptions, type MatmulForm, median, type Result, round4, timeOp, timeRuns } from './common.js';
import { benchWebgradMatmul } from './webgrad.js';

/** The matmul kernels of webgrad, benchmarked side by side (EngineOptions.matmul). */
export type WebgradVariant = 'regular' | 'wide';
export const WEBGRAD_VARIANTS: readonly WebgradVariant[] = ['regular', 'wide'];

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

function matmulResult(library: string, form: MatmulForm, size: number, samples: number[] | null, iters?: number) {
  const ms = samples ? median(samples) : null;
  const r: Result = {
    name: `matmul-${form}`,
    library,
    form,
    size,
    gflops: ms ? round4((2 * size ** 3) / (ms * 1e6)) : null,
    msMedian: ms ? round4(ms) : null,
    timing: 'wall',
  };
  if (samples) Object.assign(r, { msSamples: samples.map(round4), iters });
  else r.note = 'not available';
  return r;
}

export async function benchMatmulTf(form: MatmulForm, size: number, opts: BenchOptions): Promise<Result> {
  await useBackend('webgpu');
  const [sa, sb] = operandShapes(form, size, size, size);
  const a = tf.randomUniform(sa, -1, 1);
  const b = tf.randomUniform(sb, -1, 1);
  const once = async (iters: number) => {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) {
      tf.matMul(a, b, form === 'AtB', form === 'ABt').dispose();
    }
    await syncTfWebgpu();
    return performance.now() - t0;
  };
  try {
    const { samples, iters } = await timeOp(once, opts);
    return matmulResult('tfjs-webgpu', form, size, samples, iters);
  } finally {
    tf.dispose([a, b]);
  }
}

/** webgrad's matmul with one kernel variant ('webgrad-regular', 'webgrad-wide'). */
export async function benchMatmulWebgrad(
  device: GPUDevice,
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
    const { samples, iters } = await timeRuns(device, c, opts);
    return matmulResult(library, form, size, samples, iters);
  } finally {
    c.dispose();
  }
}
