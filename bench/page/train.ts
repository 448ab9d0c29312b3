// One SGD training step of the MLP 784-256-256-10 (relu, relu, softmax cross-entropy, lr 0.01),
// in samples per second: TensorFlow.js (WebGPU and wasm backends) and webgrad.
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import {
  type BenchOptions,
  firstLine,
  interleave,
  median,
  NotAvailable,
  type Repeatable,
  type Result,
  round4,
  runsOnce,
  sizeOp,
} from './common.js';
import { syncTfWebgpu, useBackend, type WebgradVariant } from './matmul.js';
import { benchWebgradTraining, measureRecording, webgradFitCase } from './webgrad.js';

export const LAYERS = [784, 256, 256, 10] as const;
export const LEARNING_RATE = 0.01;

export type TrainLibrary = 'tfjs-webgpu' | 'tfjs-wasm' | `webgrad-${WebgradVariant}` | 'webgrad-fit';
/** The peers; webgrad's rows are added per kernel variant (PageOptions.trainVariants). */
export const TRAIN_PEERS: readonly TrainLibrary[] = ['tfjs-webgpu', 'tfjs-wasm'];

function trainResult(library: string, batch: number, samples: number[] | null, iters?: number, note?: string) {
  const ms = samples ? median(samples) : null;
  const r: Result = {
    name: 'train-mlp-784-256-256-10',
    library,
    batch,
    samplesPerSec: ms ? round4((batch * 1000) / ms) : null,
    msMedian: ms ? round4(ms) : null,
    timing: 'wall',
  };
  if (samples) Object.assign(r, { msSamples: samples.map(round4), iters });
  if (note) r.note = note;
  else if (!samples) r.note = 'not available';
  return r;
}

/** A training case of one batch: prepared, then timed a repetition at a time (see interleave), then finished. */
interface TrainCase extends Repeatable {
  library: string;
  /** Operations (steps) per timed repetition, once prepared. */
  iters: number;
  /** Notes and checks after the last repetition; releases what the case holds. */
  finish(): Promise<{ note?: string; recordMs?: number }>;
  /** Releases what the case holds, after a failure. */
  dispose(): void;
}

/**
 * Training at one batch size, every library's case against the others: the cases are set up together and
 * their repetitions interleaved (see interleave), so the ratios between libraries do not carry the machine's drift
 * from one case to the next. TensorFlow.js's two backends each keep their own tensors; the backend is switched
 * before each of its repetitions. A library whose case fails gets a row with the error; the others still run.
 */
export async function benchTrainBatch(
  device: GPUDevice,
  libraries: readonly TrainLibrary[],
  batch: number,
  opts: BenchOptions,
): Promise<Result[]> {
  const before = tf.engine().state.numTensors; // tf.memory() needs a backend started
  const cases = libraries.map((library) => trainCase(device, library, batch, opts));
  const timed = await interleave(cases, opts.reps);
  const results: Result[] = [];
  for (const c of cases) {
    const samples = timed.get(c);
    let result: Result;
    try {
      if (!Array.isArray(samples)) throw samples;
      const { note, recordMs } = await c.finish();
      result = trainResult(c.library, batch, samples, c.iters, note);
      if (recordMs !== undefined) result.recordMs = recordMs;
    } catch (e) {
      c.dispose();
      result = trainResult(c.library, batch, null);
      if (!(e instanceof NotAvailable)) {
        result.error = firstLine(e);
        delete result.note;
      }
    }
    results.push(result);
  }
  const leaked = tf.engine().state.numTensors - before;
  if (leaked > 0) console.warn(`tfjs: ${leaked} tensors left after the training benchmark at batch ${batch}`);
  return results;
}

function trainCase(device: GPUDevice, library: TrainLibrary, batch: number, opts: BenchOptions): TrainCase {
  if (library === 'tfjs-webgpu' || library === 'tfjs-wasm') return tfCase(library, batch, opts);
  if (library === 'webgrad-fit') return fitCase(device, batch, opts);
  return webgradCase(device, library.slice('webgrad-'.length) as WebgradVariant, batch, opts);
}

function tfCase(library: 'tfjs-webgpu' | 'tfjs-wasm', batch: number, opts: BenchOptions): TrainCase {
  const backend = library === 'tfjs-webgpu' ? 'webgpu' : 'wasm';
  const held: tf.Tensor[] = [];
  let optimizer: tf.Optimizer | null = null;
  let once: (iters: number) => Promise<number> = () => Promise.reject(new Error('not prepared'));
  let lastLoss = Number.NaN;
  const dispose = () => {
    optimizer?.dispose();
    optimizer = null;
    tf.dispose(held.splice(0));
  };
  const c: TrainCase = {
    library,
    iters: 1,
    async prepare() {
      await useBackend(backend);
      const params: tf.Variable[] = [];
      for (let l = 0; l + 1 < LAYERS.length; l++) {
        const [fanIn, fanOut] = [LAYERS[l], LAYERS[l + 1]];
        const w = tf.randomNormal([fanIn, fanOut], 0, Math.sqrt(2 / fanIn));
        const b = tf.zeros([fanOut]);
        params.push(tf.variable(w, true, `${backend}-w${l}`), tf.variable(b, true, `${backend}-b${l}`));
        tf.dispose([w, b]); // the variables keep the data
      }
      const x = tf.randomNormal([batch, LAYERS[0]]);
      const classes = LAYERS[LAYERS.length - 1];
      const labels = tf.tidy(() =>
        tf.cast(tf.oneHot(tf.randomUniform([batch], 0, classes, 'int32'), classes), 'float32'),
      );
      held.push(...params, x, labels);
      const sgd = tf.train.sgd(LEARNING_RATE);
      optimizer = sgd;
      const loss = () => {
        let h: tf.Tensor = x;
        for (let l = 0; 2 * l < params.length; l++) {
          h = tf.add(tf.matMul(h, params[2 * l]), params[2 * l + 1]);
          if (2 * l + 2 < params.length) h = tf.relu(h);
        }
        return tf.losses.softmaxCrossEntropy(labels, h) as tf.Scalar;
      };
      // `iters` steps back to back; the only sync is reading the last loss at the end.
      once = async (iters: number) => {
        await useBackend(backend);
        const t0 = performance.now();
        let value: tf.Scalar | null = null;
        for (let i = 0; i < iters; i++) {
          value?.dispose();
          value = sgd.minimize(loss, true);
        }
        lastLoss = (await value!.data())[0];
        value!.dispose();
        const ms = performance.now() - t0;
        if (backend === 'webgpu') await syncTfWebgpu(); // nothing should be left; keeps repetitions independent
        return ms;
      };
      c.iters = await sizeOp(once, opts);
    },
    rep: async () => (await once(c.iters)) / c.iters,
    async finish() {
      const note = backend === 'wasm' ? await wasmVariant() : undefined;
      dispose();
      if (!Number.isFinite(lastLoss)) throw new Error(`tfjs-${backend} training diverged: loss ${lastLoss}`);
      return { note };
    },
    dispose,
  };
  return c;
}

/** Which wasm binary TensorFlow.js picked (threads need a cross-origin isolated page). */
async function wasmVariant(): Promise<string> {
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return `wasm ${simd ? 'simd' : 'no simd'}, ${threads ? `${getThreadsCount()} threads` : 'single thread'}`;
}

/** One SGD step submitted over and over with one kernel variant, ended by one engine.finish(). */
function webgradCase(device: GPUDevice, variant: WebgradVariant, batch: number, opts: BenchOptions): TrainCase {
  let wc: Awaited<ReturnType<typeof benchWebgradTraining>> = null;
  let once: (iters: number) => Promise<number> = () => Promise.reject(new Error('not prepared'));
  const c: TrainCase = {
    library: `webgrad-${variant}`,
    iters: 1,
    async prepare() {
      wc = await benchWebgradTraining(batch, device, variant);
      if (!wc) throw new NotAvailable();
      once = runsOnce(device, wc);
      c.iters = await sizeOp(once, opts);
    },
    rep: async () => (await once(c.iters)) / c.iters,
    async finish() {
      c.dispose();
      const recordMs = await measureRecording(device, variant);
      return { recordMs, note: `CPU cost to record one step of a 4-layer MLP: ${recordMs.toFixed(3)} ms` };
    },
    dispose() {
      wc?.dispose();
      wc = null;
    },
  };
  return c;
}

/** About how long one timed fit() call lasts (not in --smoke runs). */
const FIT_CALL_MS = 1500;

/**
 * webgrad through model.fit() with the kernel it picks: what a user's training loop gets, the loss read back
 * every submit included. Warm-up epochs first (upload, compiling), then repetitions of as many epochs as make
 * about FIT_CALL_MS, and at least 16 steps.
 */
function fitCase(device: GPUDevice, batch: number, opts: BenchOptions): TrainCase {
  let fc: Awaited<ReturnType<typeof webgradFitCase>> | null = null;
  let epochs = 1;
  const c: TrainCase = {
    library: 'webgrad-fit',
    iters: 1,
    async prepare() {
      fc = await webgradFitCase(batch, device);
      for (let i = 0; i < Math.max(1, opts.warmup); i++) await fc.fit(1);
      // Sized on a call after the warm-up, which compiles. Each fit() call uploads its data and reads a first
      // checkpoint before it trains, a cost a user's fit() of many epochs spreads thin: a call of one epoch of 16
      // steps (batch 64) would time mostly that.
      const last = await fc.fit(1);
      const least = Math.ceil(16 / fc.steps);
      epochs = Math.max(least, opts.targetMs > 0 ? Math.min(opts.maxIters, Math.round(FIT_CALL_MS / last)) : 1);
      c.iters = epochs * fc.steps;
    },
    rep: async () => (await fc!.fit(epochs)) / c.iters,
    async finish() {
      const note = `model.fit(): ${fc!.steps} shuffled steps an epoch, losses read back every submit`;
      c.dispose();
      return { note };
    },
    dispose() {
      fc?.dispose();
      fc = null;
    },
  };
  return c;
}
