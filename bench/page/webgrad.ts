// Where webgrad plugs into the benchmark. Each function prepares one case on the page's own device; the harness
// does the timing: warm-up, then repetitions of run() calls ended by one sync(), the same way it times TensorFlow.js.
import { createEngine, type Engine, type MatmulChoice } from '../../src/index.js';
import { type Dispatch, DispatchBuilder, record } from '../../src/gpu/dispatch.js';
import { matmulGroups } from '../../src/gpu/kernels.js';
import type { Mlp } from '../../src/model.js';
import type { MatmulForm } from './common.js';

export interface WebgradCase {
  /** Enqueues one operation (one matmul, or one training step). Need not wait for the GPU. */
  run(): void | Promise<void>;
  /** Resolves once all work enqueued by run() has finished; default: device.queue.onSubmittedWorkDone(). */
  sync?(): Promise<void>;
  /** Records the operation's dispatches into a pass the harness owns (for timing with timestamp queries). */
  record?(pass: GPUComputePassEncoder): void;
  /** Frees the case's buffers. */
  dispose(): void;
}

const engines = new Map<GPUDevice, Map<MatmulChoice, Promise<Engine>>>();

/** One engine per page device and matmul choice (never destroyed: the device belongs to the page). */
export function engineFor(device: GPUDevice, matmul: MatmulChoice = 'auto'): Promise<Engine> {
  let byChoice = engines.get(device);
  if (!byChoice) engines.set(device, (byChoice = new Map()));
  let engine = byChoice.get(matmul);
  if (!engine) {
    engine = createEngine({ device, matmul });
    byChoice.set(matmul, engine);
  }
  return engine;
}

/** The engine for a forced variant, or null where the device cannot run it (e.g. 'subgroup' without subgroups). */
async function engineIfRunnable(device: GPUDevice, matmul: MatmulChoice): Promise<Engine | null> {
  try {
    return await engineFor(device, matmul);
  } catch (error) {
    if (/needs (the device feature|subgroups of four)/.test(String(error))) return null;
    throw error;
  }
}

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * A matmul C (m×n) = op(A)·op(B) in one of the training forms, operands already on `device` (shapes as stored:
 * see MatmulForm in common.ts), through shaders/matmul.wgsl exactly as training dispatches it.
 */
export async function benchWebgradMatmul(
  device: GPUDevice,
  form: MatmulForm,
  m: number,
  n: number,
  k: number,
  variant: MatmulChoice = 'auto',
): Promise<WebgradCase | null> {
  const engine = await engineIfRunnable(device, variant);
  if (!engine) return null;
  const S = GPUBufferUsage;
  // Rows x padded columns, as the library lays out activations and weights.
  const [aRows, aCols] = form === 'AtB' ? [k, m] : [m, k];
  const [bRows, bCols] = form === 'ABt' ? [n, k] : [k, n];
  const make = (label: string, rows: number, cols: number) => {
    const b = engine.createBuffer(label, pad4(rows) * pad4(cols) * 4, S.STORAGE | S.COPY_DST);
    const data = new Float32Array(pad4(rows) * pad4(cols));
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * pad4(cols) + c] = Math.sin(r * 7 + c) / 8;
    engine.write(b, 0, data);
    return b;
  };
  const a = make('bench-a', aRows, aCols);
  const b = make('bench-b', bRows, bCols);
  const c = engine.createBuffer('bench-c', m * pad4(n) * 4, S.STORAGE);
  const FORM = { ABt: 0, AB: 1, AtB: 2 }[form];
  const list: Dispatch[] = [];
  const builder = new DispatchBuilder(engine);
  builder.add(
    list,
    engine.matmul.kernel,
    { FORM, EPILOGUE: 0, ACT: 0 },
    [m, n, k, pad4(aCols) / 4, pad4(bCols) / 4, pad4(n) / 4, aRows, form === 'AB' ? pad4(bRows) : bRows],
    [a, b, c, engine.dummyRead, engine.dummyWrite],
    matmulGroups(engine.matmul, m, n),
  );
  const uniforms = builder.build('bench-uniforms');
  return {
    record(pass) {
      record(pass, list, 0);
    },
    run() {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      record(pass, list, 0);
      pass.end();
      device.queue.submit([encoder.finish()]);
    },
    dispose() {
      for (const buffer of [a, b, c, uniforms]) engine.releaseBuffer(buffer);
    },
  };
}

/**
 * A model with `batch` rows of random data uploaded, and one SGD step of it: record() encodes it (`descriptor`:
 * the compute pass's, e.g. timestamp writes; `end`: commands after the pass), submit() uploads its per-step
 * values and submits it, step() does both.
 */
export async function trainingCase(engine: Engine, sizes: number[], batch: number) {
  const model = benchModel(engine, sizes, batch);
  const net = model.network;
  const ds = await net.datasets.get(benchData(sizes, batch), 'bench');
  const optimizer = net.optimizerFor({ type: 'sgd', learningRate: 0.01 });
  const record = (descriptor?: GPUComputePassDescriptor, end?: (encoder: GPUCommandEncoder) => void) => {
    const encoder = engine.device.createCommandEncoder();
    const pass = encoder.beginComputePass(descriptor);
    const slots = net.recordStep(pass, ds, { start: 0, rows: batch, lr: 0.01, lossSlot: 1 }, 0, optimizer.dispatches);
    pass.end();
    end?.(encoder);
    return { commands: encoder.finish(), slots };
  };
  const submit = (recorded: { commands: GPUCommandBuffer; slots: number }) => {
    net.flushSteps(recorded.slots);
    engine.device.queue.submit([recorded.commands]);
  };
  return { model, record, submit, step: () => submit(record()) };
}

/**
 * One training step (gather, forward, softmax cross-entropy, backward, SGD lr 0.01; one submit) of the MLP
 * 784-256-256-10 with relu, on a batch of `batch` samples already on `device`. The steps are waited for with
 * engine.finish(), as a user of webgrad waits: in Node on a CPU adapter it asks in short probes rather than
 * keeping a wait pending, which dawn.node answers by polling without pause (see src/gpu/pace.ts).
 */
export async function benchWebgradTraining(
  batch: number,
  device: GPUDevice,
  variant: MatmulChoice = 'auto',
): Promise<WebgradCase | null> {
  const engine = await engineIfRunnable(device, variant);
  if (!engine) return null;
  const { model, step } = await trainingCase(engine, [784, 256, 256, 10], batch);
  return { run: () => step(), sync: () => engine.finish(), dispose: () => model.dispose() };
}

/**
 * CPU time to record one training step of a 4-layer MLP (784-256-256-256-10, batch 64) into a command buffer:
 * the median of 200 recordings. They are not submitted, so the GPU's speed does not enter the number.
 */
export async function measureRecording(device: GPUDevice, variant: MatmulChoice = 'auto'): Promise<number> {
  const engine = await engineFor(device, variant);
  const { model, record } = await trainingCase(engine, [784, 256, 256, 256, 10], 64);
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    record();
    times.push(performance.now() - t0);
  }
  model.dispose();
  times.sort((p, q) => p - q);
  return times[times.length >> 1];
}

/**
 * Training as a user runs it: model.fit() on 784-256-256-10 (relu, SGD lr 0.01) over `steps` batches of `batch`
 * rows already on the GPU, shuffled every epoch, each submit's losses read back. fit(epochs) resolves with the
 * milliseconds it took.
 */
export async function webgradFitCase(batch: number, device: GPUDevice) {
  const engine = await engineFor(device);
  const steps = batch >= 8192 ? 4 : batch >= 1024 ? 8 : 16;
  const sizes = [784, 256, 256, 10];
  const model = benchModel(engine, sizes, batch);
  const data = benchData(sizes, batch * steps);
  return {
    steps,
    async fit(epochs: number): Promise<number> {
      const t0 = performance.now();
      await model.fit(data, { epochs, batchSize: batch, optimizer: { type: 'sgd', learningRate: 0.01 } });
      return performance.now() - t0;
    },
    dispose: () => model.dispose(),
  };
}

/** The benchmark's MLP: relu between the layers, softmax cross-entropy, seed 1. */
function benchModel(engine: Engine, sizes: number[], batch: number): Mlp {
  return engine.mlp({
    sizes,
    activations: [...sizes.slice(2).map(() => 'relu' as const), 'identity'],
    loss: 'cross_entropy',
    seed: 1,
    batchSize: batch,
  });
}

/** `rows` rows of fixed inputs and class labels for a model of these sizes. */
function benchData(sizes: number[], rows: number) {
  return {
    x: Float32Array.from({ length: rows * sizes[0] }, (_, i) => Math.sin(i) / 2),
    y: Uint32Array.from({ length: rows }, (_, i) => i % sizes[sizes.length - 1]),
  };
}
