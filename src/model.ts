import type { Engine } from './engine.js';
import { type KernelName, SLOT_BYTES } from './pipelines.js';
import { Random } from './random.js';
import {
  ACTIVATIONS,
  type Activation,
  type LayerParameters,
  LOSSES,
  type Loss,
  type MlpOptions,
  type Targets,
} from './types.js';

const ACT_CODE: Record<Activation, number> = {
  identity: 0,
  relu: 1,
  leaky_relu: 2,
  sigmoid: 3,
  tanh: 4,
  gelu: 5,
  softplus: 6,
  elu: 7,
  silu: 8,
  softmax: 9,
};

/** Floats per storage-offset alignment step (256 bytes, which every device accepts). */
const ALIGN = SLOT_BYTES / 4;
/** Matmul tile per workgroup (shaders/matmul.wgsl: 8x8 invocations of 4 rows x 8 columns). */
const TILE_ROWS = 32;
const TILE_COLS = 64;
/** Steps whose per-step values (learning rate, loss slot) can be queued in one submit. */
const STEP_SLOTS = 64;
const LOSS_SLOTS = 256;

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** One layer's place in the flat parameter buffer. W is stored [ldOut rows, ldIn], bias [ldOut]; pads are 0. */
interface Layer {
  inp: number;
  out: number;
  ldIn: number;
  ldOut: number;
  act: Activation;
  wOffset: number;
  bOffset: number;
}

interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number];
  /** Binds the per-step uniform through a dynamic offset. */
  step?: boolean;
}

/** Activation buffers for up to `capacity` rows. */
interface Batch {
  capacity: number;
  x: GPUBuffer;
  y: GPUBuffer;
  z: GPUBuffer[];
  a: GPUBuffer[];
  dz: GPUBuffer[];
  da: (GPUBuffer | null)[];
  rowLoss: GPUBuffer;
  probs: GPUBuffer | null;
  owned: GPUBuffer[];
}

/** Everything one step on `rows` rows dispatches, bind groups and uniforms made once. */
interface Plan {
  rows: number;
  uniforms: GPUBuffer;
  forward: Dispatch[];
  /** Loss for float targets (and mse, binary_cross_entropy). */
  loss: Dispatch[];
  /** Loss for class indices (cross_entropy only). */
  lossIndices: Dispatch[];
  backward: Dispatch[];
  update: Dispatch[];
  output: Dispatch[];
}

/** A uniform value tagged as f32 (untagged numbers are written as u32). */
type UniformWord = number | { f32: number };

/**
 * A multilayer perceptron F(x) = σ_L(W_L(… σ_1(W_1 x + b_1) …) + b_L) living on the GPU, trained by
 * backpropagation and mini-batch SGD. Made by engine.mlp().
 */
export class Mlp {
  readonly sizes: readonly number[];
  readonly activations: readonly Activation[];
  readonly loss: Loss;
  private readonly layers: Layer[];
  private readonly paramFloats: number;
  private readonly params: GPUBuffer;
  private readonly grads: GPUBuffer;
  private readonly steps: GPUBuffer;
  private readonly losses: GPUBuffer;
  private readonly stepWords = new ArrayBuffer(SLOT_BYTES);
  private batch: Batch | null = null;
  private plans = new Map<number, Plan>();
  private staging: GPUBuffer[] = [];
  private scratch = new Float32Array(0);
  private disposed = false;

  /** Use engine.mlp(). */
  constructor(
    private readonly engine: Engine,
    options: MlpOptions,
  ) {
    validateOptions(options);
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
    const bytes = offset * 4;
    const S = GPUBufferUsage;
    this.params = engine.createBuffer('params', bytes, S.STORAGE | S.COPY_SRC | S.COPY_DST);
    this.grads = engine.createBuffer('grads', bytes, S.STORAGE | S.COPY_SRC | S.COPY_DST);
    this.steps = engine.createBuffer('steps', STEP_SLOTS * SLOT_BYTES, S.UNIFORM | S.COPY_DST);
    this.losses = engine.createBuffer('losses', LOSS_SLOTS * 4, S.STORAGE | S.COPY_SRC | S.COPY_DST);
    engine.write(this.params, 0, this.initialParameters(options.seed ?? 0));
    this.ensureBatch(options.batchSize ?? 256);
  }

  /** Replaces every layer's weight [out, in] and bias [out] (row-major, as torch.nn.Linear). */
  setParameters(params: LayerParameters[]): void {
    this.check();
    if (!Array.isArray(params) || params.length !== this.layers.length) {
      throw new TypeError(
        `setParameters: expected an array of ${this.layers.length} { weight, bias } layers, got ${describe(params)}`,
      );
    }
    const flat = new Float32Array(this.paramFloats);
    this.layers.forEach((layer, l) => {
      const { weight, bias } = params[l] ?? ({} as LayerParameters);
      if (!(weight instanceof Float32Array) || weight.length !== layer.out * layer.inp) {
        throw new TypeError(
          `setParameters: layer ${l} weight must be a Float32Array of ${layer.out}x${layer.inp} = ` +
            `${layer.out * layer.inp} values, got ${describe(weight)}`,
        );
      }
      if (!(bias instanceof Float32Array) || bias.length !== layer.out) {
        throw new TypeError(
          `setParameters: layer ${l} bias must be a Float32Array of ${layer.out} values, got ${describe(bias)}`,
        );
      }
      for (let o = 0; o < layer.out; o++) {
        flat.set(weight.subarray(o * layer.inp, (o + 1) * layer.inp), layer.wOffset + o * layer.ldIn);
      }
      flat.set(bias, layer.bOffset);
    });
    this.engine.write(this.params, 0, flat);
  }

  /** Every layer's weight [out, in] and bias [out], copied from the GPU. */
  async getParameters(): Promise<LayerParameters[]> {
    this.check();
    const encoder = this.engine.device.createCommandEncoder();
    const flat = await this.readBack(encoder, [{ buffer: this.params, offset: 0, size: this.paramFloats * 4 }]);
    return this.unpackLayers(flat[0]);
  }

  /**
   * The batch-mean loss and its gradient for every parameter (same layout as getParameters), without
   * changing the model. x: [b, in] row-major; y: [b, out] targets or [b] class indices.
   */
  async lossAndGradients(x: Float32Array, y: Targets): Promise<{ loss: number; gradients: LayerParameters[] }> {
    const rows = this.upload(x, y, 'lossAndGradients');
    const plan = this.plan(rows);
    this.writeStep(0, 0, 0);
    const encoder = this.engine.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    this.record(pass, plan.forward, 0);
    this.record(pass, y instanceof Uint32Array ? plan.lossIndices : plan.loss, 0);
    this.record(pass, plan.backward, 0);
    pass.end();
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
    const rows = this.upload(x, null, 'predict');
    const plan = this.plan(rows);
    const encoder = this.engine.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    this.record(pass, plan.forward, 0);
    this.record(pass, plan.output, 0);
    pass.end();
    const last = this.layers[this.layers.length - 1];
    const batch = this.batch!;
    const source = batch.probs ?? batch.a[this.layers.length - 1];
    const [out] = await this.readBack(encoder, [{ buffer: source, offset: 0, size: rows * last.ldOut * 4 }]);
    return unpad(out, rows, last.out, last.ldOut);
  }

  /**
   * One SGD step on this batch: θ ← θ − η·(1/b)Σ∇ℓ_i. Recorded into one command encoder and submitted once;
   * nothing is read back. The step's loss stays on the GPU (see lastLoss()).
   */
  sgdStep(x: Float32Array, y: Targets, learningRate: number): void {
    if (typeof learningRate !== 'number' || !Number.isFinite(learningRate)) {
      throw new TypeError(`sgdStep: learningRate must be a finite number, got ${describe(learningRate)}`);
    }
    const rows = this.upload(x, y, 'sgdStep');
    const plan = this.plan(rows);
    this.writeStep(0, learningRate, 0);
    const encoder = this.engine.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    this.record(pass, plan.forward, 0);
    this.record(pass, y instanceof Uint32Array ? plan.lossIndices : plan.loss, 0);
    this.record(pass, plan.backward, 0);
    this.record(pass, plan.update, 0);
    pass.end();
    this.engine.device.queue.submit([encoder.finish()]);
  }

  /** The loss of the most recent sgdStep or lossAndGradients, read from the GPU. */
  async lastLoss(): Promise<number> {
    this.check();
    const encoder = this.engine.device.createCommandEncoder();
    const [loss] = await this.readBack(encoder, [{ buffer: this.losses, offset: 0, size: 4 }]);
    return loss[0];
  }

  /** Frees this model's GPU buffers. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.dropBatch();
    for (const b of [this.params, this.grads, this.steps, this.losses, ...this.staging]) this.engine.releaseBuffer(b);
    this.staging = [];
    this.engine.forget(this);
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return this.layers.reduce((n, l) => n + l.out * l.inp + l.out, 0);
  }

  private check(): void {
    this.engine.check();
    if (this.disposed) throw new Error('webgrad: this model was disposed');
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

  private unpackLayers(flat: Float32Array): LayerParameters[] {
    return this.layers.map((layer) => ({
      weight: unpad(flat.subarray(layer.wOffset), layer.out, layer.inp, layer.ldIn),
      bias: flat.slice(layer.bOffset, layer.bOffset + layer.out),
    }));
  }

  /** Validates a batch and writes it (padded to the layout's leading dimensions) to the input buffers. */
  private upload(x: Float32Array, y: Targets | null, what: string): number {
    this.check();
    const first = this.layers[0];
    const last = this.layers[this.layers.length - 1];
    if (!(x instanceof Float32Array)) throw new TypeError(`${what}: x must be a Float32Array, got ${describe(x)}`);
    if (x.length === 0 || x.length % first.inp !== 0) {
      throw new RangeError(
        `${what}: x must hold b x ${first.inp} values (b >= 1) for a ${first.inp}-input model, got ${x.length}`,
      );
    }
    const rows = x.length / first.inp;
    if (y !== null) this.validateTargets(y, rows, what);
    this.ensureBatch(rows);
    const batch = this.batch!;
    this.engine.write(batch.x, 0, this.pad(x, rows, first.inp, first.ldIn));
    if (y instanceof Uint32Array) this.engine.write(batch.y, 0, y);
    else if (y) this.engine.write(batch.y, 0, this.pad(y, rows, last.out, last.ldOut));
    return rows;
  }

  private validateTargets(y: Targets, rows: number, what: string): void {
    const out = this.layers[this.layers.length - 1].out;
    if (y instanceof Uint32Array) {
      if (this.loss !== 'cross_entropy') {
        throw new TypeError(`${what}: class indices (Uint32Array) need the cross_entropy loss, not ${this.loss}`);
      }
      if (y.length !== rows) {
        throw new RangeError(`${what}: y must hold ${rows} class indices (one per row of x), got ${y.length}`);
      }
      for (let i = 0; i < y.length; i++) {
        if (y[i] >= out) throw new RangeError(`${what}: y[${i}] = ${y[i]} is not a class index in [0, ${out})`);
      }
    } else if (y instanceof Float32Array) {
      if (y.length !== rows * out) {
        throw new RangeError(`${what}: y must hold ${rows}x${out} = ${rows * out} targets, got ${y.length}`);
      }
    } else {
      throw new TypeError(`${what}: y must be a Float32Array [b, out] or Uint32Array [b], got ${describe(y)}`);
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

  private writeStep(slot: number, lr: number, lossSlot: number): void {
    const f = new Float32Array(this.stepWords);
    const u = new Uint32Array(this.stepWords);
    f[0] = lr;
    f[1] = 0;
    u[2] = lossSlot;
    this.engine.device.queue.writeBuffer(this.steps, slot * SLOT_BYTES, this.stepWords, 0, 16);
  }

  private record(pass: GPUComputePassEncoder, list: Dispatch[], stepSlot: number): void {
    for (const d of list) {
      pass.setPipeline(d.pipeline);
      if (d.step) pass.setBindGroup(0, d.bindGroup, [stepSlot * SLOT_BYTES]);
      else pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1]);
    }
  }

  /** Copies ranges into one mappable buffer, submits the encoder, and returns the ranges as Float32Arrays. */
  private async readBack(
    encoder: GPUCommandEncoder,
    ranges: { buffer: GPUBuffer; offset: number; size: number }[],
  ): Promise<Float32Array[]> {
    const total = ranges.reduce((n, r) => n + r.size, 0);
    // Staging buffers are kept for reuse; concurrent reads each take their own.
    let buffer = this.staging.pop();
    if (buffer && buffer.size < total) {
      this.engine.releaseBuffer(buffer);
      buffer = undefined;
    }
    buffer ??= this.engine.createBuffer('staging', total, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    let at = 0;
    for (const r of ranges) {
      encoder.copyBufferToBuffer(r.buffer, r.offset, buffer, at, r.size);
      at += r.size;
    }
    this.engine.device.queue.submit([encoder.finish()]);
    try {
      await buffer.mapAsync(GPUMapMode.READ, 0, roundUp(total, 4));
    } catch (error) {
      this.engine.check();
      throw error;
    }
    const bytes = buffer.getMappedRange(0, roundUp(total, 4)).slice(0);
    buffer.unmap();
    if (this.disposed) this.engine.releaseBuffer(buffer);
    else this.staging.push(buffer);
    this.engine.check();
    at = 0;
    return ranges.map((r) => {
      const view = new Float32Array(bytes, at, r.size / 4);
      at += r.size;
      return view;
    });
  }

  /** Grows the activation buffers to hold `rows` rows; plans bound to the old buffers are dropped. */
  private ensureBatch(rows: number): void {
    if (this.batch && this.batch.capacity >= rows) return;
    this.dropBatch();
    const capacity = roundUp(rows, TILE_ROWS);
    const S = GPUBufferUsage;
    const owned: GPUBuffer[] = [];
    const make = (label: string, floats: number, usage = S.STORAGE) => {
      const b = this.engine.createBuffer(label, floats * 4, usage);
      owned.push(b);
      return b;
    };
    const L = this.layers.length;
    const last = this.layers[L - 1];
    const z = this.layers.map((l, j) => make(`z${j}`, capacity * l.ldOut, S.STORAGE | S.COPY_SRC));
    const batch: Batch = {
      capacity,
      x: make('x', capacity * this.layers[0].ldIn, S.STORAGE | S.COPY_DST),
      y: make('y', capacity * last.ldOut, S.STORAGE | S.COPY_DST),
      z,
      a: this.layers.map((l, j) =>
        l.act === 'identity' ? z[j] : make(`a${j}`, capacity * l.ldOut, S.STORAGE | S.COPY_SRC),
      ),
      dz: this.layers.map((l, j) => make(`dz${j}`, capacity * l.ldOut)),
      da: this.layers.map((l, j) =>
        l.act === 'softmax' && (j < L - 1 || this.loss === 'mse') ? make(`da${j}`, capacity * l.ldOut) : null,
      ),
      rowLoss: make('row-loss', capacity),
      probs: this.loss === 'mse' ? null : make('probs', capacity * last.ldOut, S.STORAGE | S.COPY_SRC),
      owned,
    };
    this.batch = batch;
  }

  private dropBatch(): void {
    for (const plan of this.plans.values()) this.engine.releaseBuffer(plan.uniforms);
    this.plans.clear();
    if (this.batch) for (const b of this.batch.owned) this.engine.releaseBuffer(b);
    this.batch = null;
  }

  /** The dispatches of a step on `rows` rows: made on first use of that batch size, then reused. */
  private plan(rows: number): Plan {
    const cached = this.plans.get(rows);
    if (cached) return cached;
    if (this.plans.size >= 8) {
      const [oldest, old] = this.plans.entries().next().value as [number, Plan];
      this.engine.releaseBuffer(old.uniforms);
      this.plans.delete(oldest);
    }
    const plan = this.buildPlan(rows);
    this.plans.set(rows, plan);
    return plan;
  }

  private buildPlan(M: number): Plan {
    const engine = this.engine;
    const device = engine.device;
    const pipelines = engine.pipelines;
    const batch = this.batch!;
    const L = this.layers.length;
    const slots: UniformWord[][] = [];
    const pending: {
      kernel: KernelName;
      constants: Record<string, number>;
      entry?: string;
      slot: number;
      resources: (GPUBuffer | GPUBufferBinding)[];
      workgroups: [number, number];
      step?: boolean;
      list: Dispatch[];
    }[] = [];
    const forward: Dispatch[] = [];
    const loss: Dispatch[] = [];
    const lossIndices: Dispatch[] = [];
    const backward: Dispatch[] = [];
    const update: Dispatch[] = [];
    const output: Dispatch[] = [];
    const add = (
      list: Dispatch[],
      kernel: KernelName,
      constants: Record<string, number>,
      words: UniformWord[],
      resources: (GPUBuffer | GPUBufferBinding)[],
      workgroups: [number, number],
      entry?: string,
    ) => {
      slots.push(words);
      const step = kernel === 'loss_reduce' || kernel === 'sgd';
      pending.push({ kernel, constants, entry, slot: slots.length - 1, resources, workgroups, step, list });
    };
    const grid = (count: number, size: number): [number, number] => {
      const groups = Math.max(1, Math.ceil(count / size));
      const x = Math.min(groups, device.limits.maxComputeWorkgroupsPerDimension);
      return [x, Math.ceil(groups / x)];
    };
    const range = (buffer: GPUBuffer, offsetFloats: number, floats: number): GPUBufferBinding => ({
      buffer,
      offset: offsetFloats * 4,
      size: roundUp(floats, 4) * 4,
    });
    const weight = (l: Layer) => range(this.params, l.wOffset, l.ldOut * l.ldIn);
    const bias = (l: Layer) => range(this.params, l.bOffset, l.ldOut);
    const input = (j: number) => (j === 0 ? batch.x : batch.a[j - 1]);
    const matmulGroups = (rows: number, cols: number): [number, number] => [
      Math.ceil(cols / TILE_COLS),
      Math.ceil(rows / TILE_ROWS),
    ];
    const dummyR = engine.dummyRead;
    const dummyW = engine.dummyWrite;

    // Forward: Z_j = F_{j-1} W_jᵀ + b_j with the activation fused, F_j = σ_j(Z_j); softmax as its own row kernel.
    this.layers.forEach((l, j) => {
      const fused = l.act === 'softmax' ? 0 : ACT_CODE[l.act];
      add(
        forward,
        'matmul',
        { FORM: 0, EPILOGUE: 2, ACT: fused },
        [M, l.out, l.inp, l.ldIn / 4, l.ldIn / 4, l.ldOut / 4, M, l.out],
        [input(j), weight(l), batch.z[j], bias(l), fused === 0 ? dummyW : batch.a[j]],
        matmulGroups(M, l.out),
      );
      if (l.act === 'softmax') {
        add(forward, 'softmax', {}, [M, l.out, l.ldOut], [batch.z[j], batch.a[j]], grid(M, 64));
      }
    });

    // Loss: δ_L = ∂ℓ/∂Z_L with 1/b folded in, then the batch-mean loss into the step's slot.
    const last = this.layers[L - 1];
    const lossCode = this.loss === 'mse' ? 2 : this.loss === 'binary_cross_entropy' ? 3 : 0;
    const elementMean = this.loss !== 'cross_entropy';
    const scale = elementMean ? 1 / (M * last.out) : 1 / M;
    const lastSoftmaxMse = this.loss === 'mse' && last.act === 'softmax';
    const lossDispatch = (code: number, list: Dispatch[]) =>
      add(
        list,
        'loss',
        { LOSS: code, ACT: this.loss === 'mse' ? ACT_CODE[last.act] : 0 },
        [M, last.out, last.ldOut, { f32: scale }],
        [
          this.loss === 'mse' ? batch.a[L - 1] : batch.z[L - 1],
          batch.y,
          this.loss === 'mse' ? batch.z[L - 1] : dummyR,
          lastSoftmaxMse ? batch.da[L - 1]! : batch.dz[L - 1],
          batch.rowLoss,
        ],
        grid(M, 64),
      );
    lossDispatch(lossCode, loss);
    if (lastSoftmaxMse) {
      add(
        loss,
        'softmax_backward',
        {},
        [M, last.out, last.ldOut],
        [batch.a[L - 1], batch.da[L - 1]!, batch.dz[L - 1]],
        grid(M, 64),
      );
    }
    const reduce = (list: Dispatch[]) =>
      add(list, 'loss_reduce', {}, [M, { f32: scale }, 0], [this.steps, batch.rowLoss, this.losses], [1, 1]);
    reduce(loss);
    // Class indices read y as u32 (LOSS 1); which list runs is decided per call by the targets' type.
    if (this.loss === 'cross_entropy') {
      lossDispatch(1, lossIndices);
      reduce(lossIndices);
    }

    // Backward: ∇W_j = δ_jᵀ F_{j-1}, ∇b_j = Σ_rows δ_j, δ_{j-1} = σ'_{j-1}(Z_{j-1}) ⊙ (δ_j W_j) fused.
    for (let j = L - 1; j >= 0; j--) {
      const l = this.layers[j];
      add(
        backward,
        'matmul',
        { FORM: 2, EPILOGUE: 0, ACT: 0 },
        [l.out, l.inp, M, l.ldOut / 4, l.ldIn / 4, l.ldIn / 4, M, M],
        [batch.dz[j], input(j), range(this.grads, l.wOffset, l.ldOut * l.ldIn), dummyR, dummyW],
        matmulGroups(l.out, l.inp),
      );
      add(
        backward,
        'bias_grad',
        {},
        [M, l.ldOut / 4, 0],
        [batch.dz[j], range(this.grads, l.bOffset, l.ldOut)],
        [l.ldOut / 4, 1],
      );
      if (j === 0) continue;
      const prev = this.layers[j - 1];
      const softmax = prev.act === 'softmax';
      const act = ACT_CODE[prev.act];
      add(
        backward,
        'matmul',
        { FORM: 1, EPILOGUE: softmax || act === 0 ? 0 : 3, ACT: softmax ? 0 : act },
        [M, l.inp, l.out, l.ldOut / 4, l.ldIn / 4, l.ldIn / 4, M, l.ldOut],
        [
          batch.dz[j],
          weight(l),
          softmax ? batch.da[j - 1]! : batch.dz[j - 1],
          act === 0 || softmax ? dummyR : batch.z[j - 1],
          dummyW,
        ],
        matmulGroups(M, l.inp),
      );
      if (softmax) {
        add(
          backward,
          'softmax_backward',
          {},
          [M, prev.out, prev.ldOut],
          [batch.a[j - 1], batch.da[j - 1]!, batch.dz[j - 1]],
          grid(M, 64),
        );
      }
    }

    add(
      update,
      'sgd',
      {},
      [this.paramFloats / 4],
      [this.steps, this.grads, this.params],
      grid(this.paramFloats / 4, 64),
    );

    if (this.loss === 'cross_entropy') {
      add(output, 'softmax', {}, [M, last.out, last.ldOut], [batch.z[L - 1], batch.probs!], grid(M, 64));
    } else if (this.loss === 'binary_cross_entropy') {
      add(
        output,
        'activation',
        { ACT: ACT_CODE.sigmoid },
        [M, last.out, last.ldOut / 4],
        [batch.z[L - 1], dummyR, batch.probs!],
        grid(M * (last.ldOut / 4), 64),
        'forward',
      );
    }

    // One uniform buffer for the whole plan, one 256-byte slot per dispatch.
    const buffer = engine.createBuffer(
      'uniforms',
      slots.length * SLOT_BYTES,
      GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    );
    const data = new ArrayBuffer(slots.length * SLOT_BYTES);
    const u32 = new Uint32Array(data);
    const f32 = new Float32Array(data);
    slots.forEach((words, s) => {
      words.forEach((w, i) => {
        if (typeof w === 'number') u32[s * (SLOT_BYTES / 4) + i] = w;
        else f32[s * (SLOT_BYTES / 4) + i] = w.f32;
      });
    });
    device.queue.writeBuffer(buffer, 0, data);
    for (const p of pending) {
      const layout = pipelines.layout(p.kernel);
      const entries: GPUBindGroupEntry[] = [
        { binding: 0, resource: { buffer, offset: p.slot * SLOT_BYTES, size: 32 } },
      ];
      p.resources.forEach((r, i) => {
        const resource: GPUBufferBinding = 'buffer' in r ? r : { buffer: r };
        entries.push({
          binding: i + 1,
          resource: p.step && i === 0 ? { buffer: resource.buffer, offset: 0, size: 16 } : resource,
        });
      });
      p.list.push({
        pipeline: pipelines.get(p.kernel, p.constants, p.entry),
        bindGroup: device.createBindGroup({ layout, entries }),
        workgroups: p.workgroups,
        step: p.step,
      });
    }
    return { rows: M, uniforms: buffer, forward, loss, lossIndices, backward, update, output };
  }
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
  if (options.batchSize !== undefined && !(Number.isInteger(options.batchSize) && options.batchSize >= 1)) {
    throw new RangeError(`mlp: batchSize must be an integer >= 1, got ${describe(options.batchSize)}`);
  }
}

/** Row-major [rows, ld] to [rows, cols]. */
function unpad(data: Float32Array, rows: number, cols: number, ld: number): Float32Array {
  if (cols === ld) return data.slice(0, rows * cols);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * ld, r * ld + cols), r * cols);
  return out;
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<number>).length})`;
  if (Array.isArray(value)) return value.length <= 8 ? JSON.stringify(value) : `an array of ${value.length}`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}
