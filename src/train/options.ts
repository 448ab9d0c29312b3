import { describe } from '../core/errors.js';
import type { OptimizerOptions, ScheduleOptions } from '../core/types.js';
import type { TrainingData } from '../data/validate.js';
import { validateOptimizer } from '../nn/optimizers.js';
import { validateSchedule } from '../nn/schedules.js';
import type { ResolvedEarlyStopping } from './early-stopping.js';

/** What onStep receives, once the step's loss has come back from the GPU. */
export interface StepInfo {
  epoch: number;
  /** Step number over the whole fit, from 0. */
  step: number;
  /** Batch-mean loss of this step (before its update). */
  loss: number;
  /** Batch accuracy of this step (see Mlp.evaluate for its meaning per loss). */
  accuracy: number;
  learningRate: number;
  samplesPerSec: number;
}

/** What onEpoch receives, and History.epochs holds. */
export interface EpochInfo {
  epoch: number;
  /** Mean training loss and accuracy over the epoch's batches, weighted by rows. */
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  samplesPerSec: number;
  seconds: number;
  steps: number;
}

export interface History {
  epochs: EpochInfo[];
  /** Optimizer steps taken (steps redone after a device loss count once). */
  steps: number;
  /** True when the signal stopped the fit early. */
  aborted: boolean;
  /** Steps run again after a device loss, from the last checkpoint. */
  redoneSteps: number;
  /** Device losses recovered from. */
  deviceLosses: number;
  /** True when early stopping ended the fit before its epochs were done. */
  stoppedEarly?: boolean;
  /**
   * With earlyStopping: the epoch (0-based) with the lowest validation loss, whose parameters the model holds
   * at the end when restoreBest is on.
   */
  bestEpoch?: number;
}

/** Stop when the validation loss has not improved for `patience` epochs; see FitOptions.earlyStopping. */
export interface EarlyStoppingOptions {
  /** Epochs without an improvement before the fit stops, 1 and up. */
  patience: number;
  /** Give the model the best epoch's parameters back at the end. Default true. */
  restoreBest?: boolean;
  /** Least decrease of the validation loss that counts as an improvement. Default 0. */
  minDelta?: number;
}

export interface FitOptions {
  /** Passes over the data. Default 1. */
  epochs?: number;
  /** Rows per step, 1 up to n and beyond what one dispatch holds (micro-batched). Default 32. */
  batchSize?: number;
  /** Draw each epoch's batches from a seeded permutation (without replacement). Default true. */
  shuffle?: boolean;
  /** Draw rows uniformly with replacement instead (each batch an unbiased gradient estimate). Default false. */
  replacement?: boolean;
  /** Drop the last partial batch instead of averaging it over its own size. Default false. */
  dropLast?: boolean;
  /** Seed for shuffling and sampling. Default 0. */
  seed?: number;
  /** Default { type: 'sgd', learningRate: 0.01 }. */
  optimizer?: OptimizerOptions;
  schedule?: ScheduleOptions;
  /** Clip gradients to this global L2 norm before each update (as torch.nn.utils.clip_grad_norm_). */
  clipNorm?: number;
  /** Evaluated at the end of every epoch. */
  validation?: TrainingData;
  /**
   * Stop when the validation loss has not improved for `patience` epochs, and (restoreBest, default true) end
   * with the parameters of the epoch that had the lowest validation loss. Needs `validation`.
   */
  earlyStopping?: EarlyStoppingOptions;
  onStep?: (info: StepInfo) => void;
  onEpoch?: (info: EpochInfo) => void | Promise<void>;
  /** Stops the fit between steps. */
  signal?: AbortSignal;
  /** Steps recorded into one command encoder and submitted together. Default 8. */
  stepsPerSubmit?: number;
  /** Submits allowed in flight before the CPU waits for the oldest. Default 2. */
  maxInFlight?: number;
  /**
   * Steps between CPU checkpoints of parameters and optimizer state (read asynchronously). Divergence and
   * device loss roll back to the last one. Default 100.
   */
  checkpointEvery?: number;
}

/** FitOptions checked, with their defaults filled in. */
export interface ResolvedFit {
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  replacement: boolean;
  dropLast: boolean;
  seed: number;
  optimizer: OptimizerOptions;
  stepsPerSubmit: number;
  maxInFlight: number;
  checkpointEvery: number;
  earlyStopping: ResolvedEarlyStopping | null;
}

export function validateFit(options: FitOptions): ResolvedFit {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`fit: options must be an object, got ${describe(options)}`);
  }
  const int = (name: keyof FitOptions, fallback: number, min: number) => {
    const v = options[name] ?? fallback;
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= min)) {
      throw new RangeError(`fit: ${name} must be an integer >= ${min}, got ${describe(options[name])}`);
    }
    return v;
  };
  const bool = (name: keyof FitOptions, fallback: boolean) => {
    const v = options[name] ?? fallback;
    if (typeof v !== 'boolean') throw new TypeError(`fit: ${name} must be a boolean, got ${describe(v)}`);
    return v;
  };
  for (const name of ['onStep', 'onEpoch'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new TypeError(`fit: ${name} must be a function, got ${describe(options[name])}`);
    }
  }
  if (options.signal !== undefined && !(typeof options.signal === 'object' && 'aborted' in options.signal)) {
    throw new TypeError(`fit: signal must be an AbortSignal, got ${describe(options.signal)}`);
  }
  if (options.clipNorm !== undefined && !(typeof options.clipNorm === 'number' && options.clipNorm > 0)) {
    throw new RangeError(`fit: clipNorm must be a number > 0, got ${describe(options.clipNorm)}`);
  }
  const optimizer = options.optimizer ?? { type: 'sgd', learningRate: 0.01 };
  validateOptimizer(optimizer);
  if (options.schedule !== undefined) validateSchedule(options.schedule);
  return {
    epochs: int('epochs', 1, 1),
    batchSize: int('batchSize', 32, 1),
    shuffle: bool('shuffle', true),
    replacement: bool('replacement', false),
    dropLast: bool('dropLast', false),
    seed: int('seed', 0, 0),
    optimizer,
    stepsPerSubmit: int('stepsPerSubmit', 8, 1),
    maxInFlight: int('maxInFlight', 2, 1),
    checkpointEvery: int('checkpointEvery', 100, 1),
    earlyStopping: validateEarlyStopping(options),
  };
}

function validateEarlyStopping(options: FitOptions): ResolvedEarlyStopping | null {
  const e = options.earlyStopping;
  if (e === undefined) return null;
  if (typeof e !== 'object' || e === null) {
    throw new TypeError(
      `fit: earlyStopping must be an object { patience, restoreBest?, minDelta? }, got ${describe(e)}`,
    );
  }
  if (options.validation === undefined) {
    throw new TypeError('fit: earlyStopping watches the validation loss, so it needs validation data; got none');
  }
  const { patience, restoreBest = true, minDelta = 0 } = e;
  if (!(typeof patience === 'number' && Number.isInteger(patience) && patience >= 1)) {
    throw new RangeError(`fit: earlyStopping.patience must be an integer >= 1, got ${describe(patience)}`);
  }
  if (typeof restoreBest !== 'boolean') {
    throw new TypeError(`fit: earlyStopping.restoreBest must be a boolean, got ${describe(restoreBest)}`);
  }
  if (!(typeof minDelta === 'number' && Number.isFinite(minDelta) && minDelta >= 0)) {
    throw new RangeError(`fit: earlyStopping.minDelta must be a finite number >= 0, got ${describe(minDelta)}`);
  }
  return { patience, restoreBest, minDelta };
}
