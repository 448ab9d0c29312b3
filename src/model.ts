import { describe } from './core/errors.js';
import type { Activation, LayerParameters, Loss, MlpOptions, Targets } from './core/types.js';
import { type TrainingData, validateData, validateInputs } from './data/validate.js';
import { encodeModel, type OptimizerSnapshot } from './io/model-file.js';
import { checkPreprocessing, type Preprocessing } from './io/preprocessing.js';
import type { Runtime } from './gpu/runtime.js';
import { checkGradients, type GradientCheck, type GradientCheckOptions, gradientCheckOptions } from './nn/gradcheck.js';
import { flopsPerSample, parameterCount, validateMlpOptions } from './nn/layout.js';
import { Network } from './nn/network.js';
import { fitNetwork } from './train/fit.js';
import type { FitOptions, History } from './train/options.js';

/**
 * A multilayer perceptron F(x) = σ_L(W_L(… σ_1(W_1 x + b_1) …) + b_L) living on the GPU, trained by
 * backpropagation and mini-batch gradient descent. Made by engine.mlp() or engine.load().
 *
 * Every method checks its arguments and the model's state before anything reaches the GPU, and refuses with a
 * TypeError or RangeError that leaves the model as it was. While fit() runs, only predict(), getParameters()
 * and dispose() are allowed. dispose() during a call frees the model once the call has stopped, and the call
 * rejects saying so.
 */
export class Mlp {
  readonly sizes: readonly number[];
  readonly activations: readonly Activation[];
  readonly loss: Loss;
  /** @internal The GPU state and the work on it. */
  readonly network: Network;
  private disposed = false;
  private fitting = false;
  private table: Preprocessing | null = null;
  /** Calls under way: a disposal waits for them to stop before freeing buffers they may still submit to. */
  private busy = 0;

  /** Use engine.mlp(). */
  constructor(runtime: Runtime, options: MlpOptions) {
    validateMlpOptions(options);
    this.sizes = [...options.sizes];
    this.activations = [...options.activations];
    this.loss = options.loss;
    this.network = new Network(runtime, options);
  }

  /** Most rows one pass holds (from the device's limits, or MlpOptions.microBatchSize); larger batches run as
   * micro-batches whose gradients are accumulated on the GPU. */
  get maxRows(): number {
    return this.network.maxRows;
  }

  /** Number of trainable parameters. */
  get parameterCount(): number {
    return parameterCount(this.network.layers);
  }

  /** Floating-point operations of one training step per sample (forward, backward to inputs and weights). */
  get flopsPerSample(): number {
    return flopsPerSample(this.sizes);
  }

  /** Optimizer steps taken so far (Adam's bias correction and schedules with totalSteps count from here). */
  get stepCount(): number {
    return this.network.stepCount;
  }

  /**
   * How the rows of a table become this model's inputs and its outputs become predictions: the feature
   * columns, fill values for missing cells, standardisation statistics, and the classes or the targets'
   * statistics (see Preprocessing). null for a model not trained on a table. save() writes it into the file's
   * metadata and engine.load() restores it, so every reader of the file predicts alike; `webgrad train` sets
   * it. Setting it checks it against the model's sizes and loss (a TypeError or RangeError naming the field)
   * and keeps a copy; reading it gives a copy.
   */
  get preprocessing(): Preprocessing | null {
    return this.table === null ? null : structuredClone(this.table);
  }

  set preprocessing(value: Preprocessing | null) {
    this.table = value === null ? null : checkPreprocessing(value, this, 'preprocessing');
  }

  /** Replaces every layer's weight [out, in] and bias [out] (row-major, as torch.nn.Linear). */
  setParameters(params: LayerParameters[]): void {
    this.check('setParameters');
    this.network.setParameters(params, 'setParameters');
  }

  /** Every layer's weight [out, in] and bias [out], copied from the GPU. */
  getParameters(): Promise<LayerParameters[]> {
    return this.use('getParameters', true, () => this.network.getParameters());
  }

  /**
   * The batch-mean loss and its gradient for every parameter (same layout as getParameters), without
   * changing the model. x: [b, in] row-major; y: [b, out] targets or [b] class indices.
   */
  lossAndGradients(x: Float32Array, y: Targets): Promise<{ loss: number; gradients: LayerParameters[] }> {
    return this.use('lossAndGradients', false, () => {
      const rows = this.validateBatch(x, y, 'lossAndGradients');
      return this.network.lossAndGradients(x, y, rows);
    });
  }

  /**
   * Checks backpropagation on the GPU against finite differences, for this model at its current parameters and
   * this batch (x [b, in], y as for lossAndGradients). For a seeded random draw of `samples` entries of each
   * layer's weight and of its bias (every entry where there are fewer), the central difference
   * d_i = (L(θ + h·e_i) − L(θ − h·e_i)) / 2h of the batch loss, h = epsilon·max(1, |θ_i|), is computed in
   * float64 on the CPU and compared with the GPU's float32 gradient g_i by |g_i − d_i| / max(|g_i| + |d_i|,
   * floor). The floor is 1% of the larger of the entry's mass (the magnitudes it is summed from at the output)
   * and its tensor's largest |d|, since float32 resolves an entry that cancels only to a few u of those.
   * Resolves to the worst error per layer's weight and bias, the worst of all, and whether it is within
   * `tolerance`.
   *
   * The tolerance is 1e-3: float32 rounding (u ≈ 6e-8) reaches it only at 170 u of an entry's scale, where a
   * correct GPU gradient stays within a few u (the measured worst, over every activation and loss, is 4e-5);
   * the float64 differences are good to about 1e-10; a gradient wrong by 1% reads 5e-3 (see
   * GRADIENT_TOLERANCE in src/nn/gradcheck.ts). Parameters where ±h moves a relu or leaky_relu unit across 0
   * (in any row) are skipped, since the loss has a kink there and the difference is no derivative; another is
   * drawn. The parameters and optimizer state are unchanged. Costs one GPU pass, then two CPU forward passes
   * over the batch (from the parameter's layer on) per checked parameter.
   */
  checkGradients(x: Float32Array, y: Targets, options: GradientCheckOptions = {}): Promise<GradientCheck> {
    return this.use('checkGradients', false, async () => {
      const settings = gradientCheckOptions(options, 'checkGradients');
      const rows = this.validateBatch(x, y, 'checkGradients');
      // Both recorded in this tick, so nothing queued later (a fit) can come between parameters and gradients.
      const [params, { gradients }] = await Promise.all([
        this.network.getParameters(),
        this.network.lossAndGradients(x, y, rows),
      ]);
      this.check('checkGradients', true);
      return checkGradients(this, params, gradients, x, y, rows, settings);
    });
  }

  /**
   * The network's output for x [b, in]: [b, out] row-major; probabilities for cross_entropy (softmax) and
   * binary_cross_entropy (sigmoid), else the last activation's output. Allowed while fit() runs: it reads the
   * parameters between queued steps and touches no training state.
   */
  predict(x: Float32Array): Promise<Float32Array> {
    return this.use('predict', true, () => {
      const rows = this.validateBatch(x, null, 'predict');
      return this.network.predict(x, rows, () => this.check('predict', true));
    });
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
    this.network.sgdStep(x, y, rows, learningRate);
  }

  /** The loss of the most recent sgdStep, lossAndGradients or evaluate, read from the GPU. */
  lastLoss(): Promise<number> {
    return this.use('lastLoss', true, () => this.network.lastLoss());
  }

  /**
   * Mean loss and accuracy over a dataset, computed on the GPU in batches with one readback. Accuracy is the
   * argmax hit rate (cross_entropy; mse with several outputs), the per-element rate at 0.5
   * (binary_cross_entropy), or |out − y| < 0.5 (mse with one output).
   */
  evaluate(
    x: Float32Array | Uint8Array,
    y: Targets,
    options: { inputScale?: number; batchSize?: number } = {},
  ): Promise<{ loss: number; accuracy: number }> {
    return this.use('evaluate', false, async () => {
      const batchSize = options.batchSize ?? this.network.maxRows;
      if (!Number.isInteger(batchSize) || batchSize < 1) {
        throw new RangeError(`evaluate: batchSize must be an integer >= 1, got ${describe(batchSize)}`);
      }
      const ds = await this.network.datasets.get({ x, y, inputScale: options.inputScale }, 'evaluate');
      this.check('evaluate');
      return this.network.evaluate(ds, batchSize);
    });
  }

  /**
   * Trains on a dataset held on the GPU: seeded shuffling each epoch, mini-batches drawn by a gather kernel,
   * optimizer and schedule fused on the GPU, steps queued ahead and the loss read back asynchronously.
   * See FitOptions; resolves with the per-epoch history.
   */
  fit(data: TrainingData, options: FitOptions = {}): Promise<History> {
    return this.use('fit', false, async () => {
      // Held from the call's first moment: a second fit or an evaluate in the same tick is refused.
      this.fitting = true;
      try {
        return await fitNetwork(this.network, data, options, () => this.check('fit', true));
      } finally {
        this.fitting = false;
      }
    });
  }

  /**
   * The model as safetensors bytes (see src/io/model-file.ts): parameters named as torch.nn.Sequential would
   * name them, the architecture and the preprocessing in the metadata, and the optimizer's state too with
   * { optimizer: true }.
   */
  save(options: { optimizer?: boolean } = {}): Promise<Uint8Array> {
    return this.use('save', false, async () => {
      const { params, optimizer } = await this.network.checkpoint(this.network.stepCount);
      return encodeModel(this, params, options.optimizer ? optimizer : null, this.table);
    });
  }

  /** @internal Writes a model file's optimizer state (engine.load). */
  restoreOptimizer(snapshot: OptimizerSnapshot): void {
    this.check('load');
    this.network.restoreOptimizer(snapshot);
  }

  /** Frees this model's GPU buffers (once a call under way, if any, has stopped). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.busy === 0) this.network.dispose();
  }

  /** Throws if the model or engine cannot be used now; `duringFit` for calls allowed while fit() runs. */
  private check(what: string, duringFit = false): void {
    this.network.runtime.check();
    if (this.disposed) {
      throw new Error(`${what}: this model was disposed${this.busy > 0 ? ' while the call was running' : ''}`);
    }
    if (this.network.lostParameters) {
      throw new Error(
        `${what}: the GPU device was lost with this model's parameters (no checkpoint); load a saved copy`,
      );
    }
    if (this.fitting && !duringFit) throw new Error(`${what}: fit() is running on this model; await it first`);
  }

  /** Runs an async call after a synchronous check, counting it as under way until it settles. */
  private async use<T>(what: string, duringFit: boolean, call: () => Promise<T>): Promise<T> {
    this.check(what, duringFit);
    this.busy++;
    try {
      return await call();
    } finally {
      this.busy--;
      if (this.disposed && this.busy === 0) this.network.dispose();
    }
  }

  /** Validates a host batch (x [b, in], y targets) and returns b. */
  private validateBatch(x: Float32Array, y: Targets | null, what: string): number {
    const inputs = this.sizes[0];
    if (!(x instanceof Float32Array)) throw new TypeError(`${what}: x must be a Float32Array, got ${describe(x)}`);
    if (y === null) return validateInputs(x, inputs, what);
    return validateData({ x, y }, inputs, this.sizes[this.sizes.length - 1], this.loss === 'cross_entropy', what);
  }
}
