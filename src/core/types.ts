/** Coordinatewise activations, plus softmax (along each row, full Jacobian). */
export const ACTIVATIONS = [
  'identity',
  'relu',
  'leaky_relu',
  'sigmoid',
  'tanh',
  'gelu',
  'softplus',
  'elu',
  'silu',
  'softmax',
] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * Losses. `cross_entropy` fuses softmax (as torch.nn.CrossEntropyLoss), `binary_cross_entropy` fuses sigmoid
 * (as BCEWithLogitsLoss, mean over all elements); both need an identity last activation. `mse` is the mean over
 * batch and outputs (as MSELoss) of the last layer's activated output.
 */
export const LOSSES = ['cross_entropy', 'mse', 'binary_cross_entropy'] as const;
export type Loss = (typeof LOSSES)[number];

/** One layer's parameters: weight [out, in] row-major (as torch.nn.Linear), bias [out]. */
export interface LayerParameters {
  weight: Float32Array;
  bias: Float32Array;
}

/** Targets: Float32Array [b, out] (probabilities, one-hot or regression values) or Uint32Array [b] class indices. */
export type Targets = Float32Array | Uint32Array;

/** Initialisation schemes; see MlpOptions.init. */
export const INITS = ['he', 'torch'] as const;
export type Init = (typeof INITS)[number];

export interface MlpOptions {
  /** Layer widths, input first: [in, hidden..., out]. */
  sizes: number[];
  /** One activation per layer (sizes.length - 1 entries). */
  activations: Activation[];
  loss: Loss;
  /** Seed for the initial weights. Default 0. */
  seed?: number;
  /**
   * Initial weights. `'he'` (default): normal with std √(2/in) for the rectifiers (relu, leaky_relu, elu, gelu,
   * silu) and Xavier's √(2/(in + out)) for the rest, biases 0. `'torch'`: as torch.nn.Linear, weights and
   * biases uniform in ±1/√in, a smaller start that suits regression on small tables.
   */
  init?: Init;
  /**
   * Rows the activation buffers are made for at the model's first pass (they are made then, not when the model
   * is built); larger batches grow them once. Default: the first pass's rows.
   */
  batchSize?: number;
  /**
   * Most rows one pass holds. Larger batches run as micro-batches whose gradients are accumulated on the GPU.
   * Default: the most the device's binding, buffer and dispatch limits allow.
   */
  microBatchSize?: number;
}

/**
 * Optimizers, with PyTorch's semantics. `sgd`: weightDecay adds wd·p to the gradient; momentum keeps
 * buf = μ·buf + g (dampening 0); nesterov steps along g + μ·buf. `adam`: weightDecay adds wd·p to the gradient
 * (L2). `adamw`: decoupled decay p ← p − lr·wd·p before the Adam step. Both Adam variants use bias correction
 * and eps outside the square root.
 */
export type OptimizerOptions =
  | { type: 'sgd'; learningRate: number; momentum?: number; nesterov?: boolean; weightDecay?: number }
  | {
      type: 'adam' | 'adamw';
      learningRate: number;
      beta1?: number;
      beta2?: number;
      eps?: number;
      weightDecay?: number;
    };

/**
 * Learning-rate schedules, as a factor on the optimizer's learning rate at step t (0-based, counted over the
 * whole fit). `warmupSteps` (any type) ramps linearly: factor·(t+1)/warmupSteps while t < warmupSteps, and the
 * schedule proper then runs on t − warmupSteps. `step`: gamma^floor(t/stepSize). `exponential`: gamma^t.
 * `cosine`: min + (1 − min)·(1 + cos(π·t/T))/2 over the T = totalSteps − warmupSteps remaining steps, with
 * min = minFactor (default 0). `linear`: decays from 1 to minFactor over the same T.
 *
 * By default t counts the steps of one fit() call and totalSteps is that call's length. With `totalSteps` given,
 * t counts the optimizer's steps instead (model.stepCount, which carries over between fit() calls with the same
 * optimizer options), so a run paused and resumed by calling fit() again continues its schedule.
 */
export type ScheduleOptions = (
  | { type: 'constant' }
  | { type: 'step'; stepSize: number; gamma?: number }
  | { type: 'exponential'; gamma: number }
  | { type: 'cosine'; minFactor?: number }
  | { type: 'linear'; minFactor?: number }
) & { warmupSteps?: number; totalSteps?: number };
