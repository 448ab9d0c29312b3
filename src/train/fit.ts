import { DeviceLostError, DivergenceError } from '../core/errors.js';
import { Random } from '../core/random.js';
import { type GpuDataset, identity, withReplacement } from '../data/gpu-dataset.js';
import type { TrainingData } from '../data/validate.js';
import type { Network } from '../nn/network.js';
import type { Optimizer } from '../nn/optimizers.js';
import { scheduleFactor } from '../nn/schedules.js';
import { LOSS_SLOTS, STEP_SLOTS } from '../nn/steps.js';
import { Checkpoints } from './checkpoints.js';
import { EarlyStopping } from './early-stopping.js';
import { type EpochInfo, type FitOptions, type History, type ResolvedFit, validateFit } from './options.js';

/** Steps recorded into one submit, whose losses come back together. */
interface Group {
  first: number;
  rows: number[];
  lrs: number[];
  read: Promise<Float32Array[]>;
}

/**
 * The training loop behind Mlp.fit: epochs of shuffled mini-batches gathered on the GPU, steps recorded a group
 * per submit with a bounded number of submits in flight, losses read back asynchronously, CPU checkpoints for
 * divergence and device loss. `alive` throws when the model can no longer be trained (disposed, say).
 */
export async function fitNetwork(
  net: Network,
  data: TrainingData,
  options: FitOptions,
  alive: () => void,
): Promise<History> {
  const run = new FitRun(net, data, options, alive);
  await run.acquire();
  return run.run();
}

class FitRun {
  private readonly o: ResolvedFit;
  private perSubmit = 1;
  // Set by the first acquire().
  private n = 0;
  private stepsPerEpoch = 0;
  private totalSteps = 0;
  private scheduleBase = 0;
  private readonly history: History = { epochs: [], steps: 0, aborted: false, redoneSteps: 0, deviceLosses: 0 };
  /** Settled steps' (loss, accuracy, rows), by step number. */
  private readonly records: { loss: number; accuracy: number; rows: number }[] = [];
  private readonly started = performance.now();
  private epochStart = performance.now();
  private samples = 0;
  /** The next step to record. */
  private step = 0;
  private inFlight: Group[] = [];
  private ds!: GpuDataset;
  private val: GpuDataset | null = null;
  private optimizer!: Optimizer;
  private checkpoints!: Checkpoints;
  private readonly stopper: EarlyStopping | null;
  private generation: number;

  constructor(
    private readonly net: Network,
    private readonly data: TrainingData,
    private readonly options: FitOptions,
    private readonly alive: () => void,
  ) {
    this.o = validateFit(options);
    this.generation = net.runtime.generation;
    this.stopper = this.o.earlyStopping ? new EarlyStopping(net, this.o.earlyStopping) : null;
    if (this.stopper) this.history.stoppedEarly = false;
  }

  /** The training and validation data on the GPU (checked once, kept for the whole fit), the optimizer, buffers. */
  async acquire(): Promise<void> {
    const { net, o } = this;
    this.ds = await net.datasets.get(this.data, 'fit');
    if (this.options.validation) this.val = await net.datasets.get(this.options.validation, 'fit: validation');
    const n = this.ds.n;
    if (o.dropLast && n < o.batchSize) {
      throw new RangeError(`fit: dropLast with batchSize ${o.batchSize} leaves no batch of the ${n} rows`);
    }
    this.optimizer = net.optimizerFor(o.optimizer, this.options.clipNorm);
    if (this.n === 0) {
      this.n = n;
      this.stepsPerEpoch = o.dropLast ? Math.floor(n / o.batchSize) : Math.ceil(n / o.batchSize);
      this.totalSteps = this.stepsPerEpoch * o.epochs;
      // A schedule with its own horizon follows the optimizer's step count across fit() calls.
      this.scheduleBase = this.options.schedule?.totalSteps !== undefined ? net.stepCount : 0;
    }
    // Per device: a replacement's kernel or limits may give the batch more micro-batches than before.
    const passes = net.passesPerStep(o.batchSize);
    this.perSubmit = Math.max(1, Math.min(o.stepsPerSubmit, Math.floor(STEP_SLOTS / passes), LOSS_SLOTS - 1));
    net.prepare(o.batchSize);
    this.generation = net.runtime.generation;
  }

  async run(): Promise<History> {
    this.checkpoints = await Checkpoints.start(this.net);
    try {
      while (this.step < this.totalSteps && !this.history.aborted && !this.history.stoppedEarly) {
        try {
          await this.runEpochs();
        } catch (error) {
          // Queued reads fail quietly (see submitGroup): the device they ran on may be gone.
          this.inFlight = [];
          this.checkpoints.drop();
          if (!this.deviceLost(error)) throw error;
          await this.resume();
        }
      }
    } finally {
      this.checkpoints.end();
    }
    this.history.steps = this.step;
    if (this.stopper) {
      this.stopper.restore();
      this.history.bestEpoch = this.stopper.bestEpoch;
    }
    return this.history;
  }

  private deviceLost(error: unknown): boolean {
    const runtime = this.net.runtime;
    return error instanceof DeviceLostError || runtime.lost || runtime.generation !== this.generation;
  }

  /**
   * After a device loss: a new device (unless another fit on the engine already brought one up, which rebuilt
   * this network from its last finite checkpoint too), the data uploaded again, and the steps since run again.
   */
  private async resume(): Promise<void> {
    this.history.deviceLosses++;
    await this.net.runtime.recoverDevice(this.generation);
    this.alive();
    await this.acquire();
    const good = this.checkpoints.good;
    this.history.redoneSteps += this.step - good.step;
    this.step = good.step;
    this.records.length = Math.min(this.records.length, this.step);
    this.history.epochs = this.history.epochs.filter((e) => e.epoch < Math.floor(this.step / this.stepsPerEpoch));
  }

  /** One generator per epoch, so an epoch's order can be drawn again after a rollback. */
  private orderOf(epoch: number): Uint32Array {
    const { o, n } = this;
    const rng = new Random(o.seed * 65537 + epoch);
    return o.replacement ? withReplacement(n, rng) : o.shuffle ? rng.permutation(n) : identity(n);
  }

  private async runEpochs(): Promise<void> {
    const { o, stepsPerEpoch, totalSteps, checkpoints } = this;
    let epoch = Math.floor(this.step / stepsPerEpoch);
    this.ds.setOrder(this.orderOf(epoch));
    while (this.step < totalSteps) {
      if (this.options.signal?.aborted) {
        this.history.aborted = true;
        break;
      }
      this.alive();
      if (this.net.runtime.generation !== this.generation) throw new DeviceLostError('fit: the device was replaced');
      this.submitGroup(epoch);
      checkpoints.maybeRead(this.step, o.checkpointEvery);
      if (this.inFlight.length > o.maxInFlight) await this.settle(this.inFlight.shift()!);
      if (this.step % stepsPerEpoch === 0 || this.step === totalSteps) {
        await this.drain();
        await checkpoints.settle();
        if (await this.finishEpoch(epoch)) break;
        if (this.step < totalSteps) this.ds.setOrder(this.orderOf(++epoch));
      } else if (checkpoints.reading && this.inFlight.length === 0) {
        await checkpoints.settle();
      }
    }
    await this.drain();
  }

  /** Records up to perSubmit steps of one epoch into one submit, whose losses travel back with it. */
  private submitGroup(epoch: number): void {
    const { net, o, options, stepsPerEpoch } = this;
    const encoder = net.runtime.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    const group: Omit<Group, 'read'> = { first: this.step, rows: [], lrs: [] };
    let slot = 0;
    // A group never crosses an epoch: the next epoch needs a new row order first.
    const end = Math.min(this.totalSteps, (epoch + 1) * stepsPerEpoch, this.step + this.perSubmit);
    for (let k = 0; this.step < end; k++, this.step++) {
      const start = (this.step % stepsPerEpoch) * o.batchSize;
      const rows = Math.min(o.batchSize, this.n - start);
      const horizon = options.schedule?.totalSteps ?? this.totalSteps;
      const lr = o.optimizer.learningRate * scheduleFactor(options.schedule, this.scheduleBase + this.step, horizon);
      slot = net.recordStep(pass, this.ds, { start, rows, lr, lossSlot: 1 + k }, slot, this.optimizer.dispatches);
      group.rows.push(rows);
      group.lrs.push(lr);
    }
    pass.end();
    net.flushSteps(slot);
    const ranges = [{ buffer: net.losses, offset: 8, size: 8 * group.rows.length }];
    const units = net.flopsPerSample * group.rows.reduce((sum, rows) => sum + rows, 0);
    // Steps of one network at one batch size take time in proportion to their rows; other work may not.
    const kind = `fit ${net.flopsPerSample} x ${o.batchSize}`;
    const read = net.runtime.readBack(encoder, ranges, { units, kind });
    // Settled in order, or dropped after a device loss; a read that fails before its turn must not surface as
    // an unhandled rejection (awaiting it still throws).
    read.catch(() => {});
    this.inFlight.push({ ...group, read });
  }

  private async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.settle(this.inFlight.shift()!);
  }

  /** Takes a group's losses: divergence rolls back and throws; each step is recorded and reported. */
  private async settle(group: Group): Promise<void> {
    const [out] = await group.read;
    group.rows.forEach((rows, i) => {
      const s = group.first + i;
      const loss = out[2 * i];
      const accuracy = out[2 * i + 1];
      if (!Number.isFinite(loss)) {
        const good = this.checkpoints.good;
        this.net.restore(good);
        throw new DivergenceError(
          `fit: the loss became ${loss} at step ${s} (epoch ${Math.floor(s / this.stepsPerEpoch)}); the model ` +
            `holds the last finite parameters, from step ${good.step}. Lower the learning rate or clip gradients.`,
          s,
          good.step,
        );
      }
      this.records[s] = { loss, accuracy, rows };
      this.samples += rows;
      this.options.onStep?.({
        epoch: Math.floor(s / this.stepsPerEpoch),
        step: s,
        loss,
        accuracy,
        learningRate: group.lrs[i],
        samplesPerSec: this.samples / ((performance.now() - this.started) / 1000),
      });
    });
  }

  /**
   * The epoch's row-weighted means, the validation set evaluated where it already is, then onEpoch; resolves
   * with whether early stopping ends the fit here.
   */
  private async finishEpoch(epoch: number): Promise<boolean> {
    const { stepsPerEpoch } = this;
    const steps = this.records.slice(epoch * stepsPerEpoch, (epoch + 1) * stepsPerEpoch);
    const rows = steps.reduce((a, r) => a + r.rows, 0);
    const seconds = (performance.now() - this.epochStart) / 1000;
    const info: EpochInfo = {
      epoch,
      loss: steps.reduce((a, r) => a + r.loss * r.rows, 0) / rows,
      accuracy: steps.reduce((a, r) => a + r.accuracy * r.rows, 0) / rows,
      samplesPerSec: rows / seconds,
      seconds,
      steps: steps.length,
    };
    if (this.val) {
      const v = await this.net.evaluate(this.val, this.net.maxRows);
      info.valLoss = v.loss;
      info.valAccuracy = v.accuracy;
    }
    this.history.epochs.push(info);
    await this.options.onEpoch?.(info);
    this.epochStart = performance.now();
    if (this.stopper && info.valLoss !== undefined) {
      const stop = await this.stopper.update(epoch, info.valLoss);
      if (stop && this.step < this.totalSteps) this.history.stoppedEarly = true;
    }
    return this.history.stoppedEarly === true;
  }
}
