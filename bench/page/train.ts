// One SGD training step of the MLP 784-256-256-10 (relu, relu, softmax cross-entropy, lr 0.01),
// in samples per second: TensorFlow.js (WebGPU and wasm backends) and webgrad.
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { type BenchOptions, median, type Result, round4, timeOp, timeRuns } from './common.js';
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

export async function benchTrainTf(backend: 'webgpu' | 'wasm', batch: number, opts: BenchOptions): Promise<Result> {
  await useBackend(backend);
  const before = tf.memory().numTensors;
  const params: tf.Variable[] = [];
  for (let l = 0; l + 1 < LAYERS.length; l++) {
    const [fanIn, fanOut] = [LAYERS[l], LAYERS[l + 1]];
    const w = tf.randomNormal([fanIn, fanOut], 0, Math.sqrt(2 / fanIn));
    const b = tf.zeros([fanOut]);
    params.push(tf.variable(w, true, `w${l}`), tf.variable(b, true, `b${l}`));
    tf.dispose([w, b]); // the variables keep the data
  }
  const x = tf.randomNormal([batch, LAYERS[0]]);
  const labels = tf.tidy(() =>
    tf.cast(
      tf.oneHot(tf.randomUniform([batch], 0, LAYERS[LAYERS.length - 1], 'int32'), LAYERS[LAYERS.length - 1]),
      'float32',
    ),
  );
  const optimizer = tf.train.sgd(LEARNING_RATE);
  const loss = () => {
    let h: tf.Tensor = x;
    for (let l = 0; 2 * l < params.length; l++) {
      h = tf.add(tf.matMul(h, params[2 * l]), params[2 * l + 1]);
      if (2 * l + 2 < params.length) h = tf.relu(h);
    }
    return tf.losses.softmaxCrossEntropy(labels, h) as tf.Scalar;
  };
  // `iters` steps back to back; the only sync is reading the last loss at the end.
  let lastLoss = Number.NaN;
  const once = async (iters: number) => {
    const t0 = performance.now();
    let value: tf.Scalar | null = null;
    for (let i = 0; i < iters; i++) {
      value?.dispose();
      value = optimizer.minimize(loss, true);
    }
    lastLoss = (await value!.data())[0];
    value!.dispose();
    const ms = performance.now() - t0;
    if (backend === 'webgpu') await syncTfWebgpu(); // nothing should be left; keeps repetitions independent
    return ms;
  };
  try {
    const { samples, iters } = await timeOp(once, opts);
    const note = backend === 'wasm' ? await wasmVariant() : undefined;
    if (!Number.isFinite(lastLoss)) throw new Error(`tfjs-${backend} training diverged: loss ${lastLoss}`);
    return trainResult(`tfjs-${backend}`, batch, samples, iters, note);
  } finally {
    optimizer.dispose();
    tf.dispose([x, labels, ...params]);
    const leaked = tf.memory().numTensors - before;
    if (leaked > 0) console.warn(`tfjs-${backend}: ${leaked} tensors left after the training benchmark`);
  }
}

/** Which wasm binary TensorFlow.js picked (threads need a cross-origin isolated page). */
async function wasmVariant(): Promise<string> {
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return `wasm ${simd ? 'simd' : 'no simd'}, ${threads ? `${getThreadsCount()} threads` : 'single thread'}`;
}

export async function benchTrainWebgrad(
  device: GPUDevice,
  variant: WebgradVariant,
  batch: number,
  opts: BenchOptions,
): Promise<Result> {
  const library = `webgrad-${variant}`;
  // ---- webgrad slot: bench/page/webgrad.ts benchWebgradTraining returns a case, or null = not available.
  const c = await benchWebgradTraining(batch, device, variant);
  if (!c) return trainResult(library, batch, null);
  try {
    const { samples, iters } = await timeRuns(device, c, opts);
    const result = trainResult(library, batch, samples, iters);
    c.dispose();
    const record = await measureRecording(device, variant);
    result.recordMs = record;
    result.note = `CPU cost to record one step of a 4-layer MLP: ${record.toFixed(3)} ms`;
    return result;
  } catch (error) {
    c.dispose();
    throw error;
  }
}

/** About how long one timed fit() call lasts (not in --smoke runs). */
const FIT_CALL_MS = 1500;

/**
 * webgrad through model.fit() with the kernel it picks: what a user's training loop gets, the loss read back
 * every submit included. Warm-up epochs first (upload, compiling), then repetitions of as many epochs as make
 * about FIT_CALL_MS, and at least 16 steps.
 */
export async function benchTrainWebgradFit(device: GPUDevice, batch: number, opts: BenchOptions): Promise<Result> {
  const c = await webgradFitCase(batch, device);
  try {
    for (let i = 0; i < Math.max(1, opts.warmup); i++) await c.fit(1);
    // Sized on a call after the warm-up, which compiles. Each fit() call uploads its data and reads a first
    // checkpoint before it trains, a cost a user's fit() of many epochs spreads thin: a call of one epoch of 16
    // steps (batch 64) would time mostly that.
    const last = await c.fit(1);
    const least = Math.ceil(16 / c.steps);
    const epochs = Math.max(least, opts.targetMs > 0 ? Math.min(opts.maxIters, Math.round(FIT_CALL_MS / last)) : 1);
    const samples: number[] = [];
    for (let r = 0; r < opts.reps; r++) samples.push((await c.fit(epochs)) / (epochs * c.steps));
    const note = `model.fit(): ${c.steps} shuffled steps an epoch, losses read back every submit`;
    return trainResult('webgrad-fit', batch, samples, epochs * c.steps, note);
  } finally {
    c.dispose();
  }
}
