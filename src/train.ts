import { identity, type TrainingData, withReplacement } from './batches.js';
import { describe } from './errors.js';
import { LOSS_SLOTS, type Mlp, STEP_SLOTS } from './model.js';
import { validateOptimizer } from './optimizers.js';
import { Random } from './random.js';
import { scheduleFactor, validateSchedule } from './schedules.js';
import type { OptimizerOptions, ScheduleOptions } from './types.js';

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
  /** Optimizer steps taken. */
  steps: number;
  /** True when the signal stopped the fit early. */
  aborted: boolean;
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
  onStep?: (info: StepInfo) => void;
  onEpoch?: (info: EpochInfo) => void | Promise<void>;
  /** Stops the fit between steps. */
  signal?: AbortSignal;
  /** Steps recorded into one command encoder and submitted together. Default 8. */
  stepsPerSubmit?: number;
  /** Submits allowed in flight before the CPU waits for the oldest. Default 2. */
  maxInFlight?: number;
}

interface Group {
  epoch: number;
  first: number;
  rows: number[];
  lrs: number[];
  read: Promise<Float32Array[]>;
}

/** The training loop behind Mlp.fit. */
export async function fitModel(model: Mlp, data: TrainingData, options: FitOptions): Promise<History> {
  const o = validateFit(options);
  const ds = model.dataset(data, 'fit');
  const val = options.validation ? model.dataset(options.validation, 'fit: validation') : null;
  if (o.dropLast && ds.n < o.batchSize) {
    throw new RangeError(`fit: dropLast with batchSize ${o.batchSize} leaves no batch of the ${ds.n} rows`);
  }
  const optimizer = model.optimizerFor(o.optimizer, options.clipNorm);
  const stepsPerEpoch = o.dropLast ? Math.floor(ds.n / o.batchSize) : Math.ceil(ds.n / o.batchSize);
  const totalSteps = stepsPerEpoch * o.epochs;
  const passes = model.passesPerStep(o.batchSize);
  const perSubmit = Math.max(1, Math.min(o.stepsPerSubmit, Math.floor(STEP_SLOTS / passes), LOSS_SLOTS - 1));
  const rng = new Random(o.seed);
  const history: History = { epochs: [], steps: 0, aborted: false };
  const started = performance.now();
  let samples = 0;
  let step = 0;
  model.prepare(o.batchSize);
  model.training = true;
  try {
    for (let epoch = 0; epoch < o.epochs && !history.aborted; epoch++) {
      const epochStart = performance.now();
      const order = o.replacement ? withReplacement(ds.n, rng) : o.shuffle ? rng.permutation(ds.n) : identity(ds.n);
      ds.setOrder(order);
      const inFlight: Group[] = [];
      let lossSum = 0;
      let accSum = 0;
      let rowSum = 0;
      const settle = async (group: Group) => {
        const [out] = await group.read;
        group.rows.forEach((rows, i) => {
          const loss = out[2 * i];
          const accuracy = out[2 * i + 1];
          lossSum += loss * rows;
          accSum += accuracy * rows;
          rowSum += rows;
          samples += rows;
          options.onStep?.({
            epoch: group.epoch,
            step: group.first + i,
            loss,
            accuracy,
            learningRate: group.lrs[i],
            samplesPerSec: samples / ((performance.now() - started) / 1000),
          });
        });
      };
      for (let s = 0; s < stepsPerEpoch; ) {
        if (options.signal?.aborted) {
          history.aborted = true;
          break;
        }
        const encoder = model.engine.device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        const group: Omit<Group, 'read'> = { epoch, first: step, rows: [], lrs: [] };
        let slot = 0;
        for (let k = 0; k < perSubmit && s < stepsPerEpoch; k++, s++, step++) {
          const start = s * o.batchSize;
          const rows = Math.min(o.batchSize, ds.n - start);
          const lr = o.optimizer.learningRate * scheduleFactor(options.schedule, step, totalSteps);
          slot = model.recordStep(pass, ds, start, rows, slot, lr, 1 + k, optimizer.dispatches);
          group.rows.push(rows);
          group.lrs.push(lr);
        }
        pass.end();
        model.flushSteps(slot);
        // The losses of this group travel back with its own submit: the queue never waits on the CPU.
        const read = model.readBack(encoder, [{ buffer: model.losses, offset: 8, size: 8 * group.rows.length }]);
        inFlight.push({ ...group, read });
        history.steps += group.rows.length;
        if (inFlight.length > o.maxInFlight) await settle(inFlight.shift()!);
      }
      while (inFlight.length > 0) await settle(inFlight.shift()!);
      if (rowSum === 0) break;
      const info: EpochInfo = {
        epoch,
        loss: lossSum / rowSum,
        accuracy: accSum / rowSum,
        samplesPerSec: rowSum / ((performance.now() - epochStart) / 1000),
        seconds: (performance.now() - epochStart) / 1000,
        steps: stepsPerEpoch,
      };
      if (val && options.validation) {
        model.training = false;
        try {
          const v = await model.evaluate(options.validation.x, options.validation.y, {
            inputScale: options.validation.inputScale,
          });
          info.valLoss = v.loss;
          info.valAccuracy = v.accuracy;
        } finally {
          model.training = true;
        }
      }
      history.epochs.push(info);
      await options.onEpoch?.(info);
    }
  } finally {
    model.training = false;
  }
  return history;
}

interface Resolved {
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  replacement: boolean;
  dropLast: boolean;
  seed: number;
  optimizer: OptimizerOptions;
  stepsPerSubmit: number;
  maxInFlight: number;
}

function validateFit(options: FitOptions): Resolved {
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
  };
}
