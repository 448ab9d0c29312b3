import type { LayerParameters, Loss, MlpOptions, OptimizerOptions, Targets } from '../core/types.js';
import { DatasetCache, type GpuDataset, identity } from '../data/gpu-dataset.js';
import { type Dispatch, record } from '../gpu/dispatch.js';
import type { Resident, Runtime } from '../gpu/runtime.js';
import type { PacedRead } from '../gpu/pace.js';
import type { OptimizerSnapshot } from '../io/model-file.js';
import {
  flopsPerSample,
  initialParameters,
  type Layer,
  layout,
  Padder,
  packLayers,
  rowLimit,
  unpackLayers,
  unpad,
} from './layout.js';
import { Optimizer, optimizerKey } from './optimizers.js';
import { PlanCache } from './plan-cache.js';
import { LOSS_SLOTS, STEP_SLOTS, StepValues } from './steps.js';

/** Parameters and optimizer state on the CPU, taken during fit for divergence and device-loss recovery. */
export interface Checkpoint {
  /** Optimizer steps taken when it was read. */
  step: number;
  params: LayerParameters[];
  optimizer: OptimizerSnapshot | null;
}

/** Passes of at most `max` rows covering `rows`: [first row, rows] of each. */
export function* passes(rows: number, max: number): Generator<[number, number]> {
  for (let at = 0; at < rows; at += max) yield [at, Math.min(max, rows - at)];
}

/**
 * One MLP's GPU state, and the work on it: parameters, gradients, per-step values, losses, optimizer state,
 * activation buffers and plans, the datasets it has seen. Records forward, loss, backward and update; reads back
 * parameters, gradients, losses and predictions. Arguments are assumed checked (see Mlp, which checks them).
 */
export class Network implements Resident {
  readonly layers: Layer[];
  readonly loss: Loss;
  /** Floats of the flat parameter buffer (and of the gradients and each optimizer state). */
  readonly floats: number;
  /**
   * Most rows one pass holds; larger batches run as micro-batches whose gradients are summed on the GPU. Set
   * again on a replacement device, whose kernel or limits may differ.
   */
  maxRows: number;
  /** Floating-point operations of one training step per sample (see layout.ts). */
  readonly flopsPerSample: number;
  params!: GPUBuffer;
  grads!: GPUBuffer;
  losses!: GPUBuffer;
  datasets!: DatasetCache;
  /** Optimizer steps taken so far (Adam's bias correction counts from here). */
  stepCount = 0;
  /** What rebuild() restores after a device loss: a running fit keeps it at its last finite checkpoint. */
  recovery: Checkpoint | null = null;
  /** Set when a lost device took the parameters with it and no checkpoint could restore them. */
  lostParameters = false;
  private stepValues!: StepValues;
  private plans!: PlanCache;
  /** sgdStep's update: SGD without momentum, the learning rate from each call's step values. */
  private plainSgd!: Optimizer;
  private optimizer: Optimizer | null = null;
  private readonly padder = new Padder();
  private readonly firstRows: number;
  private readonly microBatchSize: number | undefined;

  constructor(
    readonly runtime: Runtime,
    options: MlpOptions,
  ) {
    this.loss = options.loss;
    ({ layers: this.layers, floats: this.floats } = layout(options.sizes, options.activations));
    this.flopsPerSample = flopsPerSample(options.sizes);
    this.microBatchSize = options.microBatchSize;
    this.maxRows = this.rowLimit();
    this.firstRows = options.batchSize ?? 1;
    this.allocate();
    runtime.write(this.params, 0, initialParameters(this.layers, this.floats, options.seed ?? 0, options.init));
    runtime.adopt(this);
  }

  /** The per-step uniform buffer, bound by plans and optimizers. */
  get steps(): GPUBuffer {
    return this.stepValues.buffer;
  }

  /** Rows one pass can hold on the runtime's device with its matmul kernel (see layout.ts). */
  private rowLimit(): number {
    const { limits, matmul } = this.runtime;
    return rowLimit(this.layers, this.floats, limits, matmul.rows, this.microBatchSize);
  }

  /** Parameters, gradients, per-step values, losses and the plain SGD update; activations come with use. */
  private allocate(): void {
    const { runtime, floats } = this;
    const S = GPUBufferUsage;
    this.params = runtime.createBuffer('params', floats * 4, S.STORAGE | S.COPY_SRC | S.COPY_DST);
    this.grads = runtime.createBuffer('grads', floats * 4, S.STORAGE | S.COPY_SRC | S.COPY_DST);
    this.losses = runtime.createBuffer('losses', LOSS_SLOTS * 8, S.STORAGE | S.COPY_SRC | S.COPY_DST);
    this.stepValues = new StepValues(runtime);
    this.plans = new PlanCache(this, this.maxRows, this.firstRows);
    const last = this.layers[this.layers.length - 1];
    this.datasets = new DatasetCache(runtime, {
      inputs: this.layers[0].inp,
      outputs: last.out,
      indices: this.loss === 'cross_entropy',
    });
    const buffers = { params: this.params, grads: this.grads, steps: this.steps, floats };
    this.plainSgd = new Optimizer(runtime, buffers, { type: 'sgd', learningRate: 0 });
  }

  /** After the runtime replaced a lost device: every buffer anew, the state from `recovery` if there is one. */
  rebuild(): void {
    const opt = this.optimizer;
    this.optimizer = null;
    this.maxRows = this.rowLimit();
    this.allocate();
    const checkpoint = this.recovery;
    if (!checkpoint) {
      this.lostParameters = true;
      return;
    }
    this.restore(checkpoint);
    if (!checkpoint.optimizer && opt) this.optimizerFor(opt.options, opt.clipNorm);
    this.stepCount = checkpoint.optimizer?.step ?? checkpoint.step;
  }

  /** Frees every GPU buffer of this network. */
  dispose(): void {
    this.plans.release();
    this.optimizer?.release();
    this.datasets.releaseAll();
    this.plainSgd.release();
    for (const b of [this.params, this.grads, this.steps, this.losses]) {
      this.runtime.releaseBuffer(b);
    }
    this.runtime.forget(this);
  }

  /** A CPU copy of parameters and optimizer state, both of the same step (one submit), read asynchronously. */
  async checkpoint(step: number): Promise<Checkpoint> {
    const opt = this.optimizer;
    const optimizerStep = this.stepCount; // now: more steps may be recorded while the copy is in flight
    const buffers = [this.params, ...(opt?.stateBuffers ?? [])];
    // Queued behind the training steps: paced to their end, so that the wait does not poll meanwhile.
    const ranges = buffers.map((buffer) => ({ buffer, offset: 0, size: this.floats * 4 }));
    const flats = await this.read(ranges, { units: 0 });
    const [params, ...state] = flats.map((f) => unpackLayers(this.layers, f));
    const optimizer = opt ? { options: opt.options, clipNorm: opt.clipNorm, step: optimizerStep, state } : null;
    return { step, params, optimizer };
  }

  /** Writes a checkpoint back to the GPU. */
  restore(checkpoint: Checkpoint): void {
    this.setParameters(checkpoint.params, 'restore');
    if (checkpoint.optimizer) this.restoreOptimizer(checkpoint.optimizer);
    this.lostParameters = false;
  }

  /** Checks and writes every layer's weight [out, in] and bias [out]. */
  setParameters(params: LayerParameters[], what: string): void {
    this.runtime.write(this.params, 0, packLayers(this.layers, this.floats, params, what));
  }

  async getParameters(): Promise<LayerParameters[]> {
    const [flat] = await this.read([{ buffer: this.params, offset: 0, size: this.floats * 4 }]);
    return unpackLayers(this.layers, flat);
  }

  /** The optimizer for these options, keeping its state while the options stay the same (compared by value). */
  optimizerFor(options: OptimizerOptions, clipNorm?: number): Optimizer {
    if (this.optimizer?.key !== optimizerKey(options, clipNorm)) {
      const buffers = { params: this.params, grads: this.grads, steps: this.steps, floats: this.floats };
      const next = new Optimizer(this.runtime, buffers, options, clipNorm);
      this.optimizer?.release();
      this.optimizer = next;
      this.stepCount = 0;
    }
    return this.optimizer;
  }

  /** Makes the optimizer of a snapshot current and writes its state to the GPU. */
  restoreOptimizer(snapshot: OptimizerSnapshot): void {
    const opt = this.optimizerFor(snapshot.options, snapshot.clipNorm);
    const buffers = opt.stateBuffers;
    if (snapshot.state.length !== 0 && snapshot.state.length !== buffers.length) {
      throw new RangeError(
        `load: ${snapshot.options.type} keeps ${buffers.length} state tensors per parameter, the file has ${snapshot.state.length}`,
      );
    }
    const packed = snapshot.state.map((layers) => packLayers(this.layers, this.floats, layers, 'load'));
    packed.forEach((flat, k) => {
      this.runtime.write(buffers[k], 0, flat);
    });
    this.stepCount = snapshot.step;
  }

  /** The batch-mean loss and gradients of a host batch of `rows` rows. */
  async lossAndGradients(x: Float32Array, y: Targets, rows: number) {
    this.runHostBatch(x, y, rows, 0, null);
    const [loss, grads] = await this.read([
      { buffer: this.losses, offset: 0, size: 4 },
      { buffer: this.grads, offset: 0, size: this.floats * 4 },
    ]);
    return { loss: loss[0], gradients: unpackLayers(this.layers, grads) };
  }

  /** One plain SGD step on a host batch; nothing is read back. */
  sgdStep(x: Float32Array, y: Targets, rows: number, learningRate: number): void {
    this.runHostBatch(x, y, rows, learningRate, this.plainSgd.dispatches);
    this.stepCount++;
  }

  /** The outputs (probabilities for the fused losses) of `rows` host rows, [rows, out]; `alive` before each pass. */
  async predict(x: Float32Array, rows: number, alive: () => void): Promise<Float32Array> {
    const first = this.layers[0];
    const last = this.layers[this.layers.length - 1];
    const result = new Float32Array(rows * last.out);
    for (const [start, n] of passes(rows, this.maxRows)) {
      alive();
      const { plan, act } = this.plans.get({ rows: n, total: n, accumulate: false, source: null });
      const xs = x.subarray(start * first.inp, (start + n) * first.inp);
      this.runtime.write(act.x, 0, this.padder.pad(xs, n, first.inp, first.ldIn));
      const encoder = this.runtime.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      record(pass, plan.forward, 0);
      record(pass, plan.output, 0);
      pass.end();
      const source = act.probs ?? act.a[this.layers.length - 1];
      const [out] = await this.runtime.readBack(encoder, [{ buffer: source, offset: 0, size: n * last.ldOut * 4 }]);
      result.set(unpad(out, n, last.out, last.ldOut), start * last.out);
    }
    return result;
  }

  /** The loss of the most recent host step or evaluation. */
  async lastLoss(): Promise<number> {
    const [loss] = await this.read([{ buffer: this.losses, offset: 0, size: 4 }]);
    return loss[0];
  }

  /** Mean loss and accuracy over a GPU dataset in passes of `batchSize` rows, with one readback. */
  async evaluate(ds: GpuDataset, batchSize: number): Promise<{ loss: number; accuracy: number }> {
    const rows = Math.min(batchSize, this.maxRows);
    ds.setOrder(identity(ds.n));
    // Passes share one submit up to the number of per-step slots; more passes take more submits.
    let encoder = this.runtime.device.createCommandEncoder();
    let pass = encoder.beginComputePass();
    let slot = 0;
    for (const [start, n] of passes(ds.n, rows)) {
      if (slot === STEP_SLOTS) {
        pass.end();
        this.stepValues.flush(slot);
        this.runtime.device.queue.submit([encoder.finish()]);
        encoder = this.runtime.device.createCommandEncoder();
        pass = encoder.beginComputePass();
        slot = 0;
      }
      const { plan } = this.plans.get({ rows: n, total: ds.n, accumulate: start > 0, source: ds });
      this.stepValues.set(slot, 0, 0, 0, start);
      record(pass, plan.forward, slot);
      record(pass, ds.yIndices ? plan.lossIndices : plan.loss, slot);
      slot++;
    }
    pass.end();
    this.stepValues.flush(slot);
    const [out] = await this.runtime.readBack(encoder, [{ buffer: this.losses, offset: 0, size: 8 }]);
    return { loss: out[0], accuracy: out[1] };
  }

  /**
   * Records one training step drawn from `ds` rows [start, start + rows) into `pass`: micro-batches of forward,
   * loss and backward, then `update`. Writes each pass's step values from `slot` on and returns the next free slot.
   */
  recordStep(
    pass: GPUComputePassEncoder,
    ds: GpuDataset,
    batch: { start: number; rows: number; lr: number; lossSlot: number },
    slot: number,
    update: Dispatch[],
  ): number {
    for (const [at, n] of passes(batch.rows, this.maxRows)) {
      const { plan } = this.plans.get({ rows: n, total: batch.rows, accumulate: at > 0, source: ds });
      this.stepValues.set(slot, batch.lr, this.stepCount + 1, batch.lossSlot, batch.start + at);
      record(pass, plan.forward, slot);
      record(pass, ds.yIndices ? plan.lossIndices : plan.loss, slot);
      record(pass, plan.backward, slot);
      slot++;
    }
    // The update reads lr and t from the last micro-batch's slot.
    record(pass, update, slot - 1);
    this.stepCount++;
    return slot;
  }

  /** Passes a step of `rows` rows takes (one per micro-batch). */
  passesPerStep(rows: number): number {
    return Math.ceil(rows / this.maxRows);
  }

  /** Uploads the step values written by recordStep for slots [0, count). */
  flushSteps(count: number): void {
    this.stepValues.flush(count);
  }

  /** Makes the activation buffers for a pass of `rows` rows before recording starts. */
  prepare(rows: number): void {
    this.plans.reserve(Math.min(rows, this.maxRows));
  }

  /** Copies ranges to the CPU in one submit (`paced`: see Runtime.readBack). */
  read(ranges: { buffer: GPUBuffer; offset: number; size: number }[], paced?: PacedRead): Promise<Float32Array[]> {
    return this.runtime.readBack(this.runtime.device.createCommandEncoder(), ranges, paced);
  }

  /**
   * Forward, loss and backward over a host batch (micro-batches if it is large), then `update` if given. Each
   * micro-batch is its own submit, since its inputs are written to the same buffers.
   */
  private runHostBatch(x: Float32Array, y: Targets, rows: number, lr: number, update: Dispatch[] | null): void {
    const first = this.layers[0];
    const last = this.layers[this.layers.length - 1];
    this.stepValues.set(0, lr, this.stepCount + 1, 0, 0);
    this.stepValues.flush(1);
    const yWidth = y instanceof Uint32Array ? 1 : last.out;
    for (const [start, n] of passes(rows, this.maxRows)) {
      const { plan, act } = this.plans.get({ rows: n, total: rows, accumulate: start > 0, source: null });
      const xs = x.subarray(start * first.inp, (start + n) * first.inp);
      this.runtime.write(act.x, 0, this.padder.pad(xs, n, first.inp, first.ldIn));
      const ys = y.subarray(start * yWidth, (start + n) * yWidth);
      this.runtime.write(act.y, 0, ys instanceof Uint32Array ? ys : this.padder.pad(ys, n, last.out, last.ldOut));
      const encoder = this.runtime.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      record(pass, plan.forward, 0);
      record(pass, y instanceof Uint32Array ? plan.lossIndices : plan.loss, 0);
      record(pass, plan.backward, 0);
      if (update && start + n >= rows) record(pass, update, 0);
      pass.end();
      this.runtime.device.queue.submit([encoder.finish()]);
    }
  }
}
