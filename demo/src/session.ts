import type {
  Activation,
  EpochInfo,
  Init,
  LayerParameters,
  Loss,
  OptimizerOptions,
  ScheduleOptions,
  StepInfo,
  TrainingData,
} from '../../src/index.js';
import { oneHot } from '../../src/index.js';
import type { DataHandle, Trainer, TrainerModel } from '../../src/worker/trainer.js';
import type { DemoData } from './data.js';

/** Everything one training run is made of. */
export interface RunConfig {
  data: DemoData;
  sizes: number[];
  activations: Activation[];
  loss: Loss;
  optimizer: OptimizerOptions;
  schedule: ScheduleOptions;
  batchSize: number;
  /** Most rows per GPU pass (the model's microBatchSize); the device's limit when undefined. */
  microBatchSize?: number;
  epochs: number;
  seed: number;
  /** The initialisation (the library's default when undefined; tables use 'torch', as the command line does). */
  init?: Init;
  /** Parameters to start from (a loaded model's) instead of the seeded initialisation. */
  initial?: LayerParameters[];
}

export type SessionState = 'ready' | 'training' | 'paused' | 'done' | 'failed';

/** What the page hears from a session. */
export interface SessionEvents {
  /** One optimizer step; `x` is the position in epochs (fractional). */
  step(info: StepInfo, x: number, globalStep: number): void;
  /** An epoch ended; `complete` is false for the part of an epoch cut short by a pause. */
  epoch(info: EpochInfo, epochsDone: number, complete: boolean): void;
  state(state: SessionState, error?: Error): void;
}

/** A run's training and validation sets, held by the worker. */
interface Handles {
  train: DataHandle;
  val: DataHandle;
}

/**
 * A model and its training run, in the page's Trainer (webgrad/worker): the model, its data and every fit live
 * in a dedicated Worker, so that training never holds up the page. Start, pause (between steps, through fit's
 * AbortSignal) and resume (another fit with the same optimizer options, so Adam's moments carry over). The
 * views predict in the worker too, between the fit's steps.
 *
 * One trainer serves every session in turn: a session replaces the worker's model when it is made (the engine
 * and its compiled kernels stay), so a session must be disposed of before the next one is made.
 */
export class Session {
  readonly stepsPerEpoch: number;
  state: SessionState = 'ready';
  epochsDone = 0;
  stepsDone = 0;
  private fits = 0;
  private controller: AbortController | null = null;
  private running: Promise<void> | null = null;
  private viewing: Promise<unknown> = Promise.resolve();
  private starting: Promise<LayerParameters[]> | null = null;
  private disposed = false;

  private constructor(
    private readonly trainer: Trainer,
    readonly config: RunConfig,
    private readonly events: SessionEvents,
    /** The model's shape and counts (rows per GPU pass, FLOPs per sample), as the worker built it. */
    readonly model: TrainerModel,
    private readonly data: Handles,
  ) {
    this.stepsPerEpoch = Math.ceil(config.data.train.n / config.batchSize);
  }

  /** Builds the model in the worker (from `config.initial` where given) and sends it the data it lacks. */
  static async create(trainer: Trainer, config: RunConfig, events: SessionEvents): Promise<Session> {
    const { data, sizes, activations, loss, seed, init, batchSize, microBatchSize } = config;
    await trainer.setModel({
      sizes,
      activations,
      loss,
      seed,
      init,
      batchSize: Math.min(batchSize, data.train.n),
      microBatchSize,
    });
    const model = trainer.model;
    if (config.initial) await trainer.setParameters(config.initial);
    return new Session(trainer, config, events, model, await upload(trainer, data, loss));
  }

  /** Starts, or resumes after a pause, until all epochs are done or pause() is called. */
  start(): Promise<void> {
    if (this.state === 'training' || this.state === 'done' || this.disposed) return this.running ?? Promise.resolve();
    this.running = this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Stops between steps; resolves once the model is idle. */
  async pause(): Promise<void> {
    if (this.state !== 'training') return;
    this.controller?.abort();
    await this.running;
  }

  /** The network's outputs for x, from the worker (works while training: it predicts between steps). */
  predict(x: Float32Array): Promise<Float32Array> {
    // One prediction at a time, so that dispose() can wait for the last.
    const next = this.viewing.then(() => {
      if (this.disposed) throw new Error('session closed');
      return this.trainer.predict(x);
    });
    this.viewing = next.catch(() => {});
    return next;
  }

  /**
   * The parameters before any training (a loaded model's, or read from the worker once): the page draws an
   * untrained or loaded model's predictions from them on the CPU. Only meaningful while the state is 'ready'.
   */
  startingParameters(): Promise<LayerParameters[]> {
    this.starting ??= this.config.initial ? Promise.resolve(this.config.initial) : this.trainer.getParameters();
    return this.starting;
  }

  /** Loss and accuracy on the validation set (not while training). */
  evaluate(): Promise<{ loss: number; accuracy: number }> {
    return this.trainer.evaluate(this.data.val);
  }

  /** The model as safetensors bytes, as the CLI's --out writes it (not while training). */
  save(): Promise<Uint8Array> {
    return this.trainer.save();
  }

  /** Stops training and waits for the worker to be done with this session (its model goes with the next one). */
  async dispose(): Promise<void> {
    this.controller?.abort();
    await this.running;
    await this.viewing;
    this.disposed = true;
  }

  private setState(state: SessionState, error?: Error): void {
    this.state = state;
    this.events.state(state, error);
  }

  private async run(): Promise<void> {
    const { config } = this;
    const controller = new AbortController();
    this.controller = controller;
    this.setState('training');
    const stepsBefore = this.stepsDone;
    let inEpoch = 0;
    try {
      await painted();
      const history = await this.trainer.fit(this.data.train, {
        epochs: config.epochs - this.epochsDone,
        batchSize: config.batchSize,
        // A new seed per fit: resuming with the same one would replay the first fit's shuffles.
        seed: config.seed + 1000 * this.fits++,
        optimizer: config.optimizer,
        // With its own horizon the schedule follows the optimizer's steps, so a resumed run carries on with it.
        schedule: { ...config.schedule, totalSteps: config.epochs * this.stepsPerEpoch },
        validation: this.data.val,
        signal: controller.signal,
        onStep: (info) => {
          this.stepsDone = stepsBefore + info.step + 1;
          inEpoch++;
          this.events.step(info, this.epochsDone + inEpoch / this.stepsPerEpoch, this.stepsDone);
        },
        onEpoch: (info) => {
          const complete = inEpoch >= this.stepsPerEpoch;
          if (complete) this.epochsDone++;
          inEpoch = 0;
          this.events.epoch(info, this.epochsDone, complete);
        },
      });
      this.setState(!history.aborted && this.epochsDone >= config.epochs ? 'done' : 'paused');
    } catch (error) {
      this.setState('failed', error as Error);
    } finally {
      this.controller = null;
    }
  }
}

/**
 * Resolves once the page has painted what it just changed (or after 50 ms, where it paints nothing, as in a
 * hidden tab). A fit waits for it: on a machine without a GPU the worker's first steps, with their kernels to
 * compile, take every core, and the page's answer to Start (its settings locked) would wait behind them.
 */
function painted(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 50);
    requestAnimationFrame(() =>
      setTimeout(() => {
        clearTimeout(timer);
        resolve();
      }, 0),
    );
  });
}

/** The data the worker holds: sent once per dataset and kind of targets, released when other data replaces it. */
let sent: { trainer: Trainer; data: DemoData; oneHot: boolean; handles: Promise<Handles> } | null = null;

/**
 * The worker's handles on a run's data. The arrays are copied before they go (the page keeps drawing them);
 * class indices train on one-hot targets with losses other than cross_entropy (regression targets as they are).
 */
function upload(trainer: Trainer, data: DemoData, loss: Loss): Promise<Handles> {
  const hot = loss !== 'cross_entropy' && data.train.y instanceof Uint32Array;
  if (sent && sent.trainer === trainer && sent.data === data && sent.oneHot === hot) return sent.handles;
  const old = sent;
  const targets = (ds: DemoData['train']): TrainingData => ({
    x: ds.x.slice(),
    y: hot ? oneHot(ds.y as Uint32Array, data.classes) : ds.y.slice(),
    inputScale: ds.inputScale,
  });
  const handles = (async () => ({
    train: await trainer.data(targets(data.train)),
    val: await trainer.data(targets(data.val)),
  }))();
  sent = { trainer, data, oneHot: hot, handles };
  handles.catch(() => {
    if (sent?.handles === handles) sent = null;
  });
  if (old) {
    old.handles
      .then(({ train, val }) => Promise.all([old.trainer.release(train), old.trainer.release(val)]))
      .catch(() => {});
  }
  return handles;
}
