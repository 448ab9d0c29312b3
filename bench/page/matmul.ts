// Matmul in the three training forms: TensorFlow.js WebGPU and webgrad, in GFLOP/s = 2·m·n·k / time.
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import {
  type BenchOptions,
  firstLine,
  type GpuTimer,
  interleave,
  MATMUL_FORMS,
  type MatmulForm,
  median,
  NotAvailable,
  type Repeatable,
  type Result,
  round4,
  runsOnce,
  sizeOp,
  type TimingMethod,
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

export type MatmulLibrary = 'tfjs-webgpu' | `webgrad-${WebgradVariant}`;

/** A matmul of one library and form, to time against others (see interleave). */
interface MatmulCase extends Repeatable {
  library: MatmulLibrary;
  form: MatmulForm;
  iters: number;
  timing: TimingMethod;
  dispose(): void;
}

/** The FMA peak as a case (peak.ts fmaCase; passed in, as peak.ts loads WGSL through vite). */
export interface FmaCase extends Repeatable {
  result(samples: number[]): Result;
  dispose(): void;
}

/**
 * The matmuls of one size, every library and form, and the FMA peak, timed against each other: prepared together,
 * their repetitions interleaved (see interleave). Each matmul's row carries the FMA peak of the same rounds
 * (peakGflops), so its share of the peak is taken at one speed of the machine.
 */
export async function benchMatmulSize(
  device: GPUDevice,
  timer: GpuTimer,
  size: number,
  libraries: readonly MatmulLibrary[],
  opts: BenchOptions,
  peak: FmaCase,
): Promise<Result[]> {
  const cases: MatmulCase[] = MATMUL_FORMS.flatMap((form) =>
    libraries.map((library) =>
      library === 'tfjs-webgpu'
        ? tfMatmulCase(form, size, opts, timer.method)
        : webgradMatmulCase(device, timer, library.slice('webgrad-'.length) as WebgradVariant, form, size, opts),
    ),
  );
  try {
    const timed = await interleave<Repeatable>([peak, ...cases], opts.reps);
    const peakSamples = timed.get(peak);
    const peakGflops = Array.isArray(peakSamples) ? peak.result(peakSamples).gflops : null;
    return cases.map((c) => {
      const samples = timed.get(c);
      if (Array.isArray(samples)) {
        return { ...matmulResult(c.library, c.form, size, samples, c.iters, c.timing), peakGflops };
      }
      const r = matmulResult(c.library, c.form, size, null);
      if (!(samples instanceof NotAvailable)) {
        delete r.note;
        r.error = firstLine(samples);
      }
      return r;
    });
  } finally {
    peak.dispose();
    for (const c of cases) c.dispose();
  }
}

/**
 * tf.matMul on the WebGPU backend. With timestamp queries, the time is tf.time()'s kernelMs: the backend times
 * every program it runs for the op (transposes included) with timestamps, as webgrad's pass is timed below.
 */
function tfMatmulCase(form: MatmulForm, size: number, opts: BenchOptions, timing: TimingMethod): MatmulCase {
  const held: tf.Tensor[] = [];
  let once: (iters: number) => Promise<number> = () => Promise.reject(new Error('not prepared'));
  const c: MatmulCase = {
    library: 'tfjs-webgpu',
    form,
    iters: 1,
    timing,
    async prepare() {
      await useBackend('webgpu');
      const [sa, sb] = operandShapes(form, size, size, size);
      const a = tf.randomUniform(sa, -1, 1);
      const b = tf.randomUniform(sb, -1, 1);
      held.push(a, b);
      const ops = (iters: number) => {
        for (let i = 0; i < iters; i++) tf.matMul(a, b, form === 'AtB', form === 'ABt').dispose();
      };
      once = async (iters: number) => {
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
      c.iters = await sizeOp(once, opts);
    },
    rep: async () => (await once(c.iters)) / c.iters,
    dispose: () => tf.dispose(held.splice(0)),
  };
  return c;
}

/**
 * webgrad's matmul with one kernel variant. With timestamp queries, the repetition's matmuls are recorded into
 * one pass whose begin and end timestamps give the time.
 */
function webgradMatmulCase(
  device: GPUDevice,
  timer: GpuTimer,
  variant: WebgradVariant,
  form: MatmulForm,
  size: number,
  opts: BenchOptions,
): MatmulCase {
  let wc: Awaited<ReturnType<typeof benchWebgradMatmul>> = null;
  let once: (iters: number) => Promise<number> = () => Promise.reject(new Error('not prepared'));
  const c: MatmulCase = {
    library: `webgrad-${variant}`,
    form,
    iters: 1,
    timing: 'wall',
    async prepare() {
      // bench/page/webgrad.ts benchWebgradMatmul returns a case, or null where the variant cannot run.
      const prepared = await benchWebgradMatmul(device, form, size, size, size, variant);
      if (!prepared) throw new NotAvailable();
      wc = prepared;
      const record = prepared.record;
      if (timer.method === 'gpu-timestamp' && record) {
        c.timing = 'gpu-timestamp';
        once = (iters: number) =>
          timer.timePass((pass) => {
            for (let i = 0; i < iters; i++) record(pass);
          });
      } else once = runsOnce(device, prepared);
      c.iters = await sizeOp(once, opts);
    },
    rep: async () => (await once(c.iters)) / c.iters,
    dispose() {
      wc?.dispose();
      wc = null;
    },
  };
  return c;
}
