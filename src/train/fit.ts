import { firstNonFinite, identity, type TrainingData, withReplacement } from '../data/gpu-dataset.js';
import { DeviceLostError } from '../engine.js';
import { describe } from '../core/errors.js';
import { type Checkpoint, LOSS_SLOTS, type Mlp, STEP_SLOTS } from '../model.js';
import { validateOptimizer } from '../nn/optimizers.js';
import { Random } from '../core/random.js';
import { scheduleFactor, validateSchedule } from '../nn/schedules.js';
import type { OptimizerOptions, ScheduleOptions } from '../core/types.js';

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
  /**
   * Steps between CPU checkpoints of parameters and optimizer state (read asynchronously). Divergence and
   * device loss roll back to the last one. Default 100.
   */
  checkpointEvery?: number;
}

/** The loss or the parameters stopped being finite; the model holds the last finite checkpoint. */
export class DivergenceError extends Error {
  override name = 'DivergenceError';
  constructor(
    message: string,
    /** Step whose loss was not finite. */
    readonly step: number,
    /** Step of the checkpoint the model was restored to. */
    readonly restoredStep: number,
  ) {
    super(message);
  }
}

interface Group {
  first: number;
  rows: number[];
  lrs: number[];
  read: Promise<Float32Array[]>;
}

interface StepRecord {
  loss: number;
  accuracy: number;
  rows: number;
}

/** The training loop behind Mlp.fit. */
export async function fitModel(model: Mlp, data: TrainingData, options: FitOptions): Promise<History> {
  const o = validateFit(options);
  let ds = await model.dataset(data, 'fit');
  if (options.validation) await model.dataset(options.validation, 'fit: validation');
  if (o.dropLast && ds.n < o.batchSize) {
    throw new RangeError(`fit: dropLast with batchSize ${o.batchSize} leaves no batch of the ${ds.n} rows`);
  }
  const n = ds.n;
  let optimizer = model.optimizerFor(o.optimizer, options.clipNorm);
  // A schedule with its own horizon follows the optimizer's step count across fit() calls.
  const scheduleBase = options.schedule?.totalSteps !== undefined ? model.stepCount : 0;
  const stepsPerEpoch = o.dropLast ? Math.floor(n / o.batchSize) : Math.ceil(n / o.batchSize);
  const totalSteps = stepsPerEpoch * o.epochs;
  const horizon = options.schedule?.totalSteps ?? totalSteps;
  const passes = model.passesPerStep(o.batchSize);
  const perSubmit = Math.max(1, Math.min(o.stepsPerSubmit, Math.floor(STEP_SLOTS / passes), LOSS_SLOTS - 1));
  // One generator per epoch, so an epoch's order can be drawn again after a rollback.
  const orderOf = (epoch: number) => {
    const rng = new Random(o.seed * 65537 + epoch);
    return o.replacement ? withReplacement(n, rng) : o.shuffle ? rng.permutation(n) : identity(n);
  };
  const history: History = { epochs: [], steps: 0, aborted: false, redoneSteps: 0, deviceLosses: 0 };
  const started = performance.now();
  let samples = 0;
  model.prepare(o.batchSize);
  let good: Checkpoint = await model.checkpoint(0);
  let pending: Promise<Checkpoint> | null = null;
  let step = 0; // next step to record
  const records: StepRecord[] = []; // settled steps, by step number
  let epochStart = performance.now();
  model.training = true;
  try {
    while (step < totalSteps && !history.aborted) {
      const inFlight: Group[] = [];
      try {
        let epoch = Math.floor(step / stepsPerEpoch);
        ds.setOrder(orderOf(epoch));
        const settle = async (group: Group) => {
          const [out] = await group.read;
          group.rows.forEach((rows, i) => {
            const s = group.first + i;
            const loss = out[2 * i];
            const accuracy = out[2 * i + 1];
            if (!Number.isFinite(loss)) {
              model.restore(good);
              throw new DivergenceError(
                `fit: the loss became ${loss} at step ${s} (epoch ${Math.floor(s / stepsPerEpoch)}); the model ` +
                  `holds the last finite parameters, from step ${good.step}. Lower the learning rate or clip gradients.`,
                s,
                good.step,
              );
            }
            records[s] = { loss, accuracy, rows };
            samples += rows;
            options.onStep?.({
              epoch: Math.floor(s / stepsPerEpoch),
              step: s,
              loss,
              accuracy,
              learningRate: group.lrs[i],
              samplesPerSec: samples / ((performance.now() - started) / 1000),
            });
          });
        };
        const takeCheckpoint = async () => {
          if (!pending) return;
          const c = await pending;
          pending = null;
          if (c.params.every((p) => firstNonFinite(p.weight) < 0 && firstNonFinite(p.bias) < 0)) good = c;
        };
        while (step < totalSteps) {
          if (options.signal?.aborted) {
            history.aborted = true;
            break;
          }
          const encoder = model.engine.device.createCommandEncoder();
          const pass = encoder.beginComputePass();
          const group: Omit<Group, 'read'> = { first: step, rows: [], lrs: [] };
          let slot = 0;
          // A group never crosses an epoch: the next epoch needs a new row order first.
          for (let k = 0; k < perSubmit && step < (epoch + 1) * stepsPerEpoch; k++, step++) {
            const start = (step % stepsPerEpoch) * o.batchSize;
            const rows = Math.min(o.batchSize, n - start);
            const lr = o.optimizer.learningRate * scheduleFactor(options.schedule, scheduleBase + step, horizon);
            slot = model.recordStep(pass, ds, start, rows, slot, lr, 1 + k, optimizer.dispatches);
            group.rows.push(rows);
            group.lrs.push(lr);
          }
          pass.end();
          model.flushSteps(slot);
          // The losses of this group travel back with its own submit: the queue never waits on the CPU.
          const read = model.readBack(encoder, [{ buffer: model.losses, offset: 8, size: 8 * group.rows.length }]);
          inFlight.push({ ...group, read });
          if (!pending && step - good.step >= o.checkpointEvery) pending = model.checkpoint(step);
          if (inFlight.length > o.maxInFlight) await settle(inFlight.shift()!);
          if (step % stepsPerEpoch === 0 || step === totalSteps) {
            while (inFlight.length > 0) await settle(inFlight.shift()!);
            await takeCheckpoint();
            await finishEpoch(epoch);
            if (step < totalSteps) {
              epoch++;
              ds.setOrder(orderOf(epoch));
            }
          } else if (pending && inFlight.length === 0) {
            await takeCheckpoint();
          }
        }
        while (inFlight.length > 0) await settle(inFlight.shift()!);
      } catch (error) {
        // Let queued reads fail quietly: the device they ran on may be gone.
        for (const g of inFlight) g.read.catch(() => {});
        pending?.catch(() => {});
        pending = null;
        if (!(error instanceof DeviceLostError || model.engine.lost)) throw error;
        // Device loss: a new device, the last checkpoint restored, and the steps since then run again.
        history.deviceLosses++;
        await model.engine.recover(new Map([[model, good]]));
        ds = await model.dataset(data, 'fit');
        if (options.validation) await model.dataset(options.validation, 'fit: validation');
        optimizer = model.optimizerFor(o.optimizer, options.clipNorm);
        model.prepare(o.batchSize);
        history.redoneSteps += step - good.step;
        step = good.step;
        records.length = Math.min(records.length, step);
        history.epochs = history.epochs.filter((e) => e.epoch < Math.floor(step / stepsPerEpoch));
      }
    }
  } finally {
    model.training = false;
  }
  history.steps = step;
  return history;

  async function finishEpoch(epoch: number): Promise<void> {
    const steps = records.slice(epoch * stepsPerEpoch, (epoch + 1) * stepsPerEpoch);
    const rows = steps.reduce((a, r) => a + r.rows, 0);
    const seconds = (performance.now() - epochStart) / 1000;
    const info: EpochInfo = {
      epoch,
      loss: steps.reduce((a, r) => a + r.loss * r.rows, 0) / rows,
      accuracy: steps.reduce((a, r) => a + r.accuracy * r.rows, 0) / rows,
      samplesPerSec: rows / seconds,
      seconds,
      steps: steps.length,
    };
    if (options.validation) {
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
    epochStart = performance.now();
  }
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
  checkpointEvery: number;
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
    checkpointEvery: int('checkpointEvery', 100, 1),
  };
}
