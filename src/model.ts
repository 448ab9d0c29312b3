import { firstNonFinite, GpuDataset, identity, type TrainingData, validateData, validateInputs } from './data/gpu-dataset.js';
import type { Engine, ReadRange } from './engine.js';
import { describe } from './core/errors.js';
import { encodeModel, type OptimizerSnapshot } from './io/model-file.js';
import { Optimizer } from './nn/optimizers.js';
import { allocateBatch, type Batch, buildPlan, type Layer, type Plan } from './nn/plan.js';
import { SLOT_BYTES } from './gpu/pipelines.js';
import { Random } from './core/random.js';
import { type Dispatch, DispatchBuilder, grid, record } from './gpu/dispatch.js';
import { type FitOptions, type History, fitModel } from './train/fit.js';
import {
  ACTIVATIONS,
  type Activation,
  type LayerParameters,
  LOSSES,
  type Loss,
  type MlpOptions,
  type OptimizerOptions,
  type Targets,
} from './core/types.js';

/** Floats per storage-offset alignment step (256 bytes, which every device accepts). */
const ALIGN = SLOT_BYTES / 4;
/** Datasets with more values than this are checked for NaN and ±Inf on the GPU rather than the CPU. */
export const GPU_CHECK_VALUES = 1 << 22;
/** Passes (micro-batches or steps) whose per-step values can be queued for one submit. */
export const STEP_SLOTS = 256;
/** (loss, accuracy) pairs kept on the GPU. Slot 0 serves single calls; fit() cycles through the rest. */
export const LOSS_SLOTS = 1024;

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** Parameters and optimizer state on the CPU, taken during fit for divergence and device-loss recovery. */
export interface Checkpoint {
  /** Optimizer steps taken when it was read. */
  step: number;
  params: LayerParameters[];
  optimizer: OptimizerSnapshot | null;
}

/**
 * A multilayer perceptron F(x) = σ_L(W_L(… σ_1(W_1 x + b_1) …) + b_L) living on the GPU, trained by
 * backpropagation and mini-batch gradient descent. Made by engine.mlp().
 */
export class Mlp {
  readonly sizes: readonly number[];
  readonly activations: readonly Activation[];
  readonly loss: Loss;
  /** @internal */ readonly engine: Engine;
  /** Most rows one pass holds (from the device's limits, or MlpOptions.microBatchSize); larger batches run as
   * micro-batches whose gradients are accumulated on the GPU. */
  readonly maxRows: number;
  private readonly layers: Layer[];
  private readonly paramFloats: number;
  /** @internal */ params!: GPUBuffer;
  /** @internal */ grads!: GPUBuffer;
  /** @internal */ steps!: GPUBuffer;
  /** @internal */ losses!: GPUBuffer;
  private plainSgd: Dispatch[] = [];
  private plainSgdUniforms!: GPUBuffer;
  private readonly initialRows: number;
  private optimizer: Optimizer | null = null;
  private batch: Batch | null = null;
  private plans = new Map<string, Plan>();
  private datasets = new WeakMap<object, GpuDataset>();
  private liveDatasets = new Set<GpuDataset>();
  private scratch = new Float32Array(0);
  private readonly stepData = new ArrayBuffer(STEP_SLOTS * SLOT_BYTES);
  private disposed = false;
  /** Set when a lost device took the parameters with it and no checkpoint could restore them. */
  private lostParameters = false;
  /** @internal Set while fit() runs: other calls would interleave with its queued steps. */
  training = false;
  /** Optimizer steps taken so far (Adam's bias correction counts from here). */
  stepCount = 0;

  /** Use engine.mlp(). */
  constructor(engine: Engine, options: MlpOptions) {
    validateOptions(options);
    this.engine = engine;
    this.sizes = [...options.sizes];
    this.activations = [...options.activations];
    this.loss = options.loss;
    let offset = 0;
    this.layers = this.activations.map((act, l) => {
      const inp = this.sizes[l];
      const out = this.sizes[l + 1];
      const layer: Layer = { inp, out, ldIn: roundUp(inp, 4), ldOut: roundUp(out, 4), act, wOffset: 0, bOffset: 0 };
      layer.wOffset = offset;
      offset = roundUp(offset + layer.ldOut * layer.ldIn, ALIGN);
      layer.bOffset = offset;
      offset = roundUp(offset + layer.ldOut, ALIGN);
      return layer;
    });
    this.paramFloats = offset;
    this.maxRows = this.rowLimit(options.microBatchSize);
    this.initialRows = Math.min(options.batchSize ?? 256, this.maxRows);
    this.allocate();
    engine.write(this.params, 0, this.initialParameters(options.seed ?? 0));
  }

  /**
   * Makes every GPU resource the model needs up front: parameters, gradients, per-step values, losses, the plain
   * SGD update and activation buffers for the first batch size. Also used to rebuild after a device loss.
   */
  private allocate(): void {
    const engine = this.engine;
    const bytes = this.paramFloats * 4;
    const S = GPUBufferUsage;
    this.params = engine.createBuffer('params', bytes, S.STORAGE | S.COPY_SRC | S.COPY_DST);
    this.grads = engine.createBuffer('grads', bytes, S.STORAGE | S.COPY_SRC | S.COPY_DST);
    this.steps = engine.createBuffer('steps', STEP_SLOTS * SLOT_BYTES, S.UNIFORM | S.COPY_DST);
    this.losses = engine.createBuffer('losses', LOSS_SLOTS * 8, S.STORAGE | S.COPY_SRC | S.COPY_DST);
    const builder = new DispatchBuilder(engine);
    this.plainSgd = [];
    builder.add(
      this.plainSgd,
      'sgd',
      { MOMENTUM: 0, NESTEROV: 0, CLIP: 0 },
      [this.paramFloats / 4, { f32: 0 }, { f32: 0 }, { f32: 0 }],
      [this.steps, this.grads, this.params, engine.dummyWrite, engine.dummyRead],
      grid(engine, this.paramFloats / 4, 64),
    );
    this.plainSgdUniforms = builder.build('sgd-uniforms');
    this.ensureBatch(this.initialRows);
  }

  /**
   * @internal After the engine replaced a lost device: every buffer is made again on the new one, and the
   * parameters and optimizer state come from `checkpoint` (a fit's last CPU copy), or the model is unusable.
   */
  rebuild(checkpoint: Checkpoint | null): void {
    // The old buffers died with the old device; forget them without touching them.
    this.batch = null;
    this.plans.clear();
    this.datasets = new WeakMap();
    this.liveDatasets.clear();
    const opt = this.optimizer;
    this.optimizer = null;
    this.allocate();
    if (!checkpoint) {
      this.lostParameters = true;
      return;
    }
    this.engine.write(this.params, 0, this.packLayers(checkpoint.params, 'restore'));
    if (checkpoint.optimizer) this.restoreOptimizer(checkpoint.optimizer);
    else if (opt) this.optimizerFor(opt.options, opt.clipNorm);
    this.stepCount = checkpoint.optimizer?.step ?? checkpoint.step;
  }

  /** @internal A CPU copy of parameters and optimizer state, read asynchronously (no stall of queued work). */
  async checkpoint(step: number): Promise<Checkpoint> {
    // Parameters and optimizer state are copied in one submit, so both belong to the same step.
    const opt = this.optimizer;
    const optimizerStep = this.stepCount; // read now: more steps may be recorded while the copy is in flight
    const buffers = [this.params, ...(opt?.stateBuffers ?? [])];
    const encoder = this.engine.device.createCommandEncoder();
    const flats = await this.readBack(
      encoder,
      buffers.map((buffer) => ({ buffer, offset: 0, size: this.paramFloats * 4 })),
    );
    const [params, ...state] = flats.map((f) => this.unpackLayers(f));
    const optimizer = opt ? { options: opt.options, clipNorm: opt.clipNorm, step: optimizerStep, state } : null;
    return { step, params, optimizer };
  }

  /** @internal Writes a checkpoint back to the GPU. */
  restore(checkpoint: Checkpoint): void {
    this.engine.write(this.params, 0, this.packLayers(checkpoint.params, 'restore'));
    if (checkpoint.optimizer) this.restoreOptimizer(checkpoint.optimizer);
    this.lostParameters = false;
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return this.layers.reduce((n, l) => n + l.out * l.inp + l.out, 0);
  }

  /** Replaces every layer's weight [out, in] and bias [out] (row-major, as torch.nn.Linear). */
  setParameters(params: LayerParameters[]): void {
    this.check('setParameters');
    this.engine.write(this.params, 0, this.packLayers(params, 'setParameters'));
  }

  /** Every layer's weight [out, in] and bias [out], copied from the GPU. */
  async getParameters(): Promise<LayerParameters[]> {
    this.check('getParameters', true);
    const encoder = this.engine.device.createCommandEncoder();
    const [flat] = await this.readBack(encoder, [{ buffer: this.params, offset: 0, size: this.paramFloats * 4 }]);
    return this.unpackLayers(flat);
  }

  /**
   * The batch-mean loss and its gradient for every parameter (same layout as getParameters), without
   * changing the model. x: [b, in] row-major; y: [b, out] targets or [b] class indices.
   */
  async lossAndGradients(x: Float32Array, y: Targets): Promise<{ loss: number; gradients: LayerParameters[] }> {
    this.check('lossAndGradients');
    const rows = this.validateBatch(x, y, 'lossAndGradients');
    this.runHostBatch(x, y, rows, 0, null);
    const encoder = this.engine.device.createCommandEncoder();
    const [loss, grads] = await this.readBack(encoder, [
      { buffer: this.losses, offset: 0, size: 4 },
      { buffer: this.grads, offset: 0, size: this.paramFloats * 4 },
    ]);
    return { loss: loss[0], gradients: this.unpackLayers(grads) };
  }

  /**
   * The network's output for x [b, in]: [b, out] row-major; probabilities for cross_entropy (softmax) and
   * binary_cross_entropy (sigmoid), else the last activation's output.
   */
  async predict(x: Float32Array): Promise<Float32Array> {
    // Allowed while fit() runs: it reads the parameters between queued steps and touches no training state.
    this.check('predict', true);
    const rows = this.validateBatch(x, null, 'predict');
    const first = this.layers[0];
    const last = this.layers[this.layers.length - 1];
    const result = new Float32Array(rows * last.out);
    for (let start = 0; start < rows; start += this.maxRows) {
      const n = Math.min(this.maxRows, rows - start);
      this.ensureBatch(n);
      const batch = this.batch!;
      const plan = this.plan(n, n, false, null);
      this.engine.write(
        batch.x,
        0,
        this.pad(x.subarray(start * first.inp, (start + n) * first.inp), n, first.inp, first.ldIn),
      );
      const encoder = this.engine.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      record(pass, plan.forward, 0);
      record(pass, plan.output, 0);
      pass.end();
      const source = batch.probs ?? batch.a[this.layers.length - 1];
      const [out] = await this.readBack(encoder, [{ buffer: source, offset: 0, size: n * last.ldOut * 4 }]);
      result.set(unpad(out, n, last.out, last.ldOut), start * last.out);
    }
    return result;
  }

  /**
   * One SGD step on this batch: θ ← θ − η·(1/b)Σ∇ℓ_i. Recorded into one command encoder and submitted once
   * (batches larger than one pass holds run as micro-batches first); nothing is read back. The step's loss stays
   * on the GPU (see lastLoss()).
   */
  sgdStep(x: Float32Array, y: Targets, learningRate: number): void {
    this.check('sgdStep');
    if (typeof learningRate !== 'number' || !Number.isFinite(learningRate)) {
      throw new TypeError(`sgdStep: learningRate must be a finite number, got ${describe(learningRate)}`);
    }
    const rows = this.validateBatch(x, y, 'sgdStep');
    this.runHostBatch(x, y, rows, learningRate, this.plainSgd);
    this.stepCount++;
  }

  /** The loss of the most recent sgdStep, lossAndGradients or evaluate, read from the GPU. */
  async lastLoss(): Promise<number> {
    this.check('lastLoss', true);
    const encoder = this.engine.device.createCommandEncoder();
    const [loss] = await this.readBack(encoder, [{ buffer: this.losses, offset: 0, size: 4 }]);
    return loss[0];
  }

  /**
   * Mean loss and accuracy over a dataset, computed on the GPU in batches with one readback. Accuracy is the
   * argmax hit rate (cross_entropy; mse with several outputs), the per-element rate at 0.5
   * (binary_cross_entropy), or |out − y| < 0.5 (mse with one output).
   */
  async evaluate(x: Float32Array | Uint8Array, y: Targets, options: { inputScale?: number; batchSize?: number } = {}) {
    this.check('evaluate');
    const batchSize = options.batchSize ?? this.maxRows;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`evaluate: batchSize must be an integer >= 1, got ${describe(batchSize)}`);
    }
    const ds = await this.dataset({ x, y, inputScale: options.inputScale }, 'evaluate');
    const rows = Math.min(batchSize, this.maxRows);
    ds.setOrder(identity(ds.n));
    const words = new DataView(this.stepData);
    // Passes share one submit up to the number of per-step slots; more passes take more submits.
    let encoder = this.engine.device.createCommandEncoder();
    let pass = encoder.beginComputePass();
    let slot = 0;
    for (let start = 0; start < ds.n; start += rows, slot++) {
      if (slot === STEP_SLOTS) {
        pass.end();
        this.flushSteps(slot);
        this.engine.device.queue.submit([encoder.finish()]);
        encoder = this.engine.device.createCommandEncoder();
        pass = encoder.beginComputePass();
        slot = 0;
      }
      const n = Math.min(rows, ds.n - start);
      this.ensureBatch(n);
      const plan = this.plan(n, ds.n, start > 0, ds);
      writeStep(words, slot, 0, 0, 0, start);
      record(pass, plan.forward, slot);
      record(pass, ds.yIndices ? plan.lossIndices : plan.loss, slot);
    }
    pass.end();
    this.flushSteps(slot);
    const [out] = await this.readBack(encoder, [{ buffer: this.losses, offset: 0, size: 8 }]);
    return { loss: out[0], accuracy: out[1] };
  }

  /**
   * Trains on a dataset held on the GPU: seeded shuffling each epoch, mini-batches drawn by a gather kernel,
   * optimizer and schedule fused on the GPU, steps queued ahead and the loss read back asynchronously.
   * See FitOptions; resolves with the per-epoch history.
   */
  async fit(data: TrainingData, options: FitOptions = {}): Promise<History> {
    this.check('fit');
    return fitModel(this, data, options);
  }

  /** Frees this model's GPU buffers. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.dropBatch();
    this.optimizer?.release();
    for (const ds of this.liveDatasets) ds.release();
    this.liveDatasets.clear();
    const own = [this.params, this.grads, this.steps, this.losses, this.plainSgdUniforms];
    for (const b of own) this.engine.releaseBuffer(b);
    this.engine.forget(this);
  }

  /** @internal Throws if the model or engine cannot be used now. */
  check(what: string, duringFit = false): void {
    this.engine.check();
    if (this.disposed) throw new Error(`${what}: this model was disposed`);
    if (this.lostParameters) {
      throw new Error(
        `${what}: the GPU device was lost with this model's parameters (no checkpoint); load a saved copy`,
      );
    }
    if (this.training && !duringFit) throw new Error(`${what}: fit() is running on this model; await it first`);
  }

  /**
   * @internal The GPU copy of a dataset (buffers made once per x array, values uploaded on every call). Small data is checked for
   * NaN and ±Inf on the CPU before upload; large data on the GPU after it, and released again if bad.
   */
  async dataset(data: TrainingData, what: string): Promise<GpuDataset> {
    const first = this.layers[0];
    const last = this.layers[this.layers.length - 1];
    const big = (data?.x?.length ?? 0) + (data?.y?.length ?? 0) > GPU_CHECK_VALUES;
    const n = validateData(data, first.inp, last.out, this.loss === 'cross_entropy', what, !big);
    // Buffers are reused for the same array, but its values are uploaded on every call: the caller may have
    // changed them in place since.
    const cached = this.datasets.get(data.x);
    if (cached?.fits(data, n)) {
      cached.write(data);
      if (big) await this.rejectNonFinite(cached, n, what, data.x);
      return cached;
    }
    if (cached) {
      cached.release();
      this.liveDatasets.delete(cached);
      this.datasets.delete(data.x);
    }
    const ds = new GpuDataset(this.engine, n, first.inp, last.out, data);
    if (big) await this.rejectNonFinite(ds, n, what, data.x);
    this.datasets.set(data.x, ds);
    this.liveDatasets.add(ds);
    return ds;
  }

  private async rejectNonFinite(ds: GpuDataset, n: number, what: string, key: object): Promise<void> {
    const bad = await ds.findNonFinite();
    if (!bad) return;
    ds.release();
    this.liveDatasets.delete(ds);
    this.datasets.delete(key);
    const width = bad.array === 'x' ? ds.inputs : ds.outputs;
    throw new RangeError(
      `${what}: ${bad.array} must be finite, found NaN or Infinity at row ${Math.floor(bad.index / width)} ` +
        `of ${n}, column ${bad.index % width}`,
    );
  }

  /** @internal The optimizer for these options, keeping its state while the options stay the same. */
  optimizerFor(options: OptimizerOptions, clipNorm?: number): Optimizer {
    const key = JSON.stringify([options, clipNorm ?? null]);
    if (this.optimizer?.key !== key) {
      const next = new Optimizer(
        this.engine,
        { params: this.params, grads: this.grads, steps: this.steps, floats: this.paramFloats },
        options,
        clipNorm,
      );
      this.optimizer?.release();
      this.optimizer = next;
      this.stepCount = 0;
    }
    return this.optimizer;
  }

  /**
   * @internal Records one training step drawn from `ds` rows [start, start + rows) into `pass`: micro-batches of
   * forward, loss and backward, then `update`. Writes each pass's step values into stepData from `slot` on and
   * returns the next free slot.
   */
  recordStep(
    pass: GPUComputePassEncoder,
    ds: GpuDataset,
    start: number,
    rows: number,
    slot: number,
    lr: number,
    lossSlot: number,
    update: Dispatch[],
  ): number {
    const words = new DataView(this.stepData);
    for (let at = 0; at < rows; at += this.maxRows, slot++) {
      const n = Math.min(this.maxRows, rows - at);
      this.ensureBatch(n);
      const plan = this.plan(n, rows, at > 0, ds);
      writeStep(words, slot, lr, this.stepCount + 1, lossSlot, start + at);
      record(pass, plan.forward, slot);
      record(pass, ds.yIndices ? plan.lossIndices : plan.loss, slot);
      record(pass, plan.backward, slot);
    }
    // The update reads lr and t from the last micro-batch's slot.
    record(pass, update, slot - 1);
    this.stepCount++;
    return slot;
  }

  /** @internal Passes a step of `rows` rows takes (one per micro-batch). */
  passesPerStep(rows: number): number {
    return Math.ceil(rows / this.maxRows);
  }

  /** @internal Uploads the step values written by recordStep for slots [0, count). */
  flushSteps(count: number): void {
    this.engine.write(this.steps, 0, new Uint8Array(this.stepData, 0, count * SLOT_BYTES));
  }

  /** @internal Ensures activation buffers for a pass of `rows` rows exist before recording starts. */
  prepare(rows: number): void {
    this.ensureBatch(Math.min(rows, this.maxRows));
  }

  /** @internal Copies ranges into one mappable buffer, submits the encoder, and returns them as Float32Arrays. */
  readBack(encoder: GPUCommandEncoder, ranges: ReadRange[]): Promise<Float32Array[]> {
    return this.engine.readBack(encoder, ranges);
  }

  /**
   * The model as safetensors bytes (see src/model-file.ts): parameters named as torch.nn.Sequential would name
   * them, the architecture in the metadata, and the optimizer's state too with { optimizer: true }.
   */
  async save(options: { optimizer?: boolean } = {}): Promise<Uint8Array> {
    this.check('save');
    const { params, optimizer } = await this.checkpoint(this.stepCount);
    return encodeModel(this, params, options.optimizer ? optimizer : null);
  }

  /** @internal Makes the optimizer of a snapshot current and writes its state to the GPU. */
  restoreOptimizer(snapshot: OptimizerSnapshot): void {
    const opt = this.optimizerFor(snapshot.options, snapshot.clipNorm);
    const buffers = opt.stateBuffers;
    if (snapshot.state.length !== 0 && snapshot.state.length !== buffers.length) {
      throw new RangeError(
        `load: ${snapshot.options.type} keeps ${buffers.length} state tensors per parameter, the file has ${snapshot.state.length}`,
      );
    }
    snapshot.state.forEach((layers, k) => {
      this.engine.write(buffers[k], 0, this.packLayers(layers, 'load'));
    });
    this.stepCount = snapshot.step;
  }

  /** Validates layers in torch.nn.Linear layout and packs them into the padded flat layout. */
  private packLayers(params: LayerParameters[], what: string): Float32Array {
    if (!Array.isArray(params) || params.length !== this.layers.length) {
      throw new TypeError(
        `${what}: expected an array of ${this.layers.length} { weight, bias } layers, got ${describe(params)}`,
      );
    }
    const flat = new Float32Array(this.paramFloats);
    this.layers.forEach((layer, l) => {
      const { weight, bias } = params[l] ?? ({} as LayerParameters);
      if (!(weight instanceof Float32Array) || weight.length !== layer.out * layer.inp) {
        throw new TypeError(
          `${what}: layer ${l} weight must be a Float32Array of ${layer.out}x${layer.inp} = ` +
            `${layer.out * layer.inp} values, got ${describe(weight)}`,
        );
      }
      if (!(bias instanceof Float32Array) || bias.length !== layer.out) {
        throw new TypeError(
          `${what}: layer ${l} bias must be a Float32Array of ${layer.out} values, got ${describe(bias)}`,
        );
      }
      for (const [name, a] of [
        ['weight', weight],
        ['bias', bias],
      ] as const) {
        const bad = firstNonFinite(a);
        if (bad >= 0) throw new RangeError(`${what}: layer ${l} ${name}[${bad}] is ${a[bad]}, not finite`);
      }
      for (let o = 0; o < layer.out; o++) {
        flat.set(weight.subarray(o * layer.inp, (o + 1) * layer.inp), layer.wOffset + o * layer.ldIn);
      }
      flat.set(bias, layer.bOffset);
    });
    return flat;
  }

  private initialParameters(seed: number): Float32Array {
    const rng = new Random(seed);
    const flat = new Float32Array(this.paramFloats);
    for (const layer of this.layers) {
      // He for the rectifier family, whose outputs halve the variance; Xavier for the rest.
      const he = ['relu', 'leaky_relu', 'elu', 'gelu', 'silu'].includes(layer.act);
      const std = he ? Math.sqrt(2 / layer.inp) : Math.sqrt(2 / (layer.inp + layer.out));
      for (let o = 0; o < layer.out; o++) {
        for (let i = 0; i < layer.inp; i++) flat[layer.wOffset + o * layer.ldIn + i] = std * rng.normal();
      }
    }
    return flat;
  }

  /**
   * Rows one pass can hold: every activation [rows, ld] must fit a storage binding and a buffer, and the matmul
   * grid a dispatch. Parameters that cannot fit at all are an error naming the limit.
   */
  private rowLimit(requested?: number): number {
    const limits = this.engine.limits;
    const binding = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    const params = this.paramFloats * 4;
    if (params > binding) {
      throw new RangeError(
        `mlp: the ${this.parameterCount} parameters need ${params} bytes in one binding, but this device allows ` +
          `${binding} (min of maxStorageBufferBindingSize and maxBufferSize)`,
      );
    }
    const widest = Math.max(...this.layers.map((l) => Math.max(l.ldIn, l.ldOut)));
    const byBinding = Math.floor(binding / (4 * widest));
    if (byBinding < 1) {
      throw new RangeError(
        `mlp: one row of a ${widest}-wide layer needs ${4 * widest} bytes, but this device binds at most ${binding}`,
      );
    }
    const byGrid = limits.maxComputeWorkgroupsPerDimension * this.engine.matmul.rows;
    const limit = Math.min(byBinding, byGrid, requested ?? Number.POSITIVE_INFINITY);
    return Math.max(1, limit);
  }

  private unpackLayers(flat: Float32Array): LayerParameters[] {
    return this.layers.map((layer) => ({
      weight: unpad(flat.subarray(layer.wOffset), layer.out, layer.inp, layer.ldIn),
      bias: flat.slice(layer.bOffset, layer.bOffset + layer.out),
    }));
  }

  /** Validates a host batch (x [b, in], y targets) and returns b. */
  private validateBatch(x: Float32Array, y: Targets | null, what: string): number {
    const first = this.layers[0];
    const last = this.layers[this.layers.length - 1];
    if (!(x instanceof Float32Array)) throw new TypeError(`${what}: x must be a Float32Array, got ${describe(x)}`);
    if (y === null) return validateInputs(x, first.inp, what);
    return validateData({ x, y }, first.inp, last.out, this.loss === 'cross_entropy', what);
  }

  /**
   * Forward, loss and backward over a host batch (micro-batches if it is large), then `update` if given. Each
   * micro-batch is its own submit, since its inputs are written to the same buffers.
   */
  private runHostBatch(x: Float32Array, y: Targets, rows: number, lr: number, update: Dispatch[] | null): void {
    const first = this.layers[0];
    const last = this.layers[this.layers.length - 1];
    const words = new DataView(this.stepData);
    writeStep(words, 0, lr, this.stepCount + 1, 0, 0);
    this.flushSteps(1);
    const yWidth = y instanceof Uint32Array ? 1 : last.out;
    for (let start = 0; start < rows; start += this.maxRows) {
      const n = Math.min(this.maxRows, rows - start);
      this.ensureBatch(n);
      const batch = this.batch!;
      const plan = this.plan(n, rows, start > 0, null);
      this.engine.write(
        batch.x,
        0,
        this.pad(x.subarray(start * first.inp, (start + n) * first.inp), n, first.inp, first.ldIn),
      );
      const ys = y.subarray(start * yWidth, (start + n) * yWidth);
      if (ys instanceof Uint32Array) this.engine.write(batch.y, 0, ys);
      else this.engine.write(batch.y, 0, this.pad(ys, n, last.out, last.ldOut));
      const encoder = this.engine.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      record(pass, plan.forward, 0);
      record(pass, y instanceof Uint32Array ? plan.lossIndices : plan.loss, 0);
      record(pass, plan.backward, 0);
      if (update && start + n >= rows) record(pass, update, 0);
      pass.end();
      this.engine.device.queue.submit([encoder.finish()]);
    }
  }

  /** Row-major [rows, cols] to [rows, ld]; returns the input itself when no padding is needed. */
  private pad(data: Float32Array, rows: number, cols: number, ld: number): Float32Array {
    if (cols === ld) return data;
    if (this.scratch.length < rows * ld) this.scratch = new Float32Array(rows * ld);
    const out = this.scratch.subarray(0, rows * ld);
    out.fill(0);
    for (let r = 0; r < rows; r++) out.set(data.subarray(r * cols, (r + 1) * cols), r * ld);
    return out;
  }

  /** Grows the activation buffers to hold `rows` rows; plans bound to the old buffers are dropped. */
  private ensureBatch(rows: number): void {
    if (this.batch && this.batch.capacity >= rows) return;
    this.dropBatch();
    const capacity = Math.min(roundUp(rows, this.engine.matmul.rows), Math.max(rows, this.maxRows));
    this.batch = allocateBatch(this.engine, this.layers, this.loss, capacity);
  }

  private dropBatch(): void {
    for (const plan of this.plans.values()) this.engine.releaseBuffer(plan.uniforms);
    this.plans.clear();
    if (this.batch) for (const b of this.batch.owned) this.engine.releaseBuffer(b);
    this.batch = null;
  }

  /** The dispatches of a pass: made on first use of that shape, then reused. */
  private plan(rows: number, total: number, accumulate: boolean, source: GpuDataset | null): Plan {
    const key = `${rows}/${total}/${accumulate ? 1 : 0}/${source?.id ?? 0}`;
    const cached = this.plans.get(key);
    if (cached) return cached;
    if (this.plans.size >= 16) {
      const [oldest, old] = this.plans.entries().next().value as [string, Plan];
      this.engine.releaseBuffer(old.uniforms);
      this.plans.delete(oldest);
    }
    const plan = buildPlan(this, this.layers, this.batch!, rows, total, accumulate, source);
    this.plans.set(key, plan);
    return plan;
  }
}

/** Writes one pass's per-step values (struct Step in the shaders) into its 256-byte slot. */
function writeStep(words: DataView, slot: number, lr: number, t: number, lossSlot: number, start: number): void {
  const at = slot * SLOT_BYTES;
  words.setFloat32(at, lr, true);
  words.setFloat32(at + 4, t, true);
  words.setUint32(at + 8, lossSlot, true);
  words.setUint32(at + 12, start, true);
}

function validateOptions(options: MlpOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`mlp: expected an options object { sizes, activations, loss }, got ${describe(options)}`);
  }
  const { sizes, activations, loss } = options;
  if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new RangeError(`mlp: sizes must be at least two integers >= 1 (input first), got ${describe(sizes)}`);
  }
  if (!Array.isArray(activations) || activations.length !== sizes.length - 1) {
    throw new RangeError(
      `mlp: activations must have ${sizes.length - 1} entries (one per layer for sizes [${sizes}]), got ${describe(activations)}`,
    );
  }
  activations.forEach((a, i) => {
    if (!ACTIVATIONS.includes(a)) {
      throw new TypeError(`mlp: activations[${i}] = ${describe(a)} is not one of ${ACTIVATIONS.join(', ')}`);
    }
  });
  if (!LOSSES.includes(loss)) throw new TypeError(`mlp: loss ${describe(loss)} is not one of ${LOSSES.join(', ')}`);
  const lastAct = activations[activations.length - 1];
  if (loss !== 'mse' && lastAct !== 'identity') {
    throw new TypeError(
      `mlp: ${loss} applies its own ${loss === 'cross_entropy' ? 'softmax' : 'sigmoid'}, so the last activation must be 'identity', got '${lastAct}'`,
    );
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new TypeError(`mlp: seed must be an integer, got ${describe(options.seed)}`);
  }
  for (const name of ['batchSize', 'microBatchSize'] as const) {
    const v = options[name];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) {
      throw new RangeError(`mlp: ${name} must be an integer >= 1, got ${describe(v)}`);
    }
  }
}

/** Row-major [rows, ld] to [rows, cols]. */
function unpad(data: Float32Array, rows: number, cols: number, ld: number): Float32Array {
  if (cols === ld) return data.slice(0, rows * cols);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * ld, r * ld + cols), r * cols);
  return out;
}
