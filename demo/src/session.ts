import type {
  Activation,
  Engine,
  EpochInfo,
  LayerParameters,
  Loss,
  Mlp,
  OptimizerOptions,
  ScheduleOptions,
  StepInfo,
} from '../../src/index.js';
import { oneHot } from '../../src/index.js';
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

type Fit = Parameters<Mlp['fit']>[0];

/**
 * A model and its training run: start, pause (between steps, through fit's AbortSignal) and resume (another fit
 * with the same optimizer options, so Adam's moments carry over). Keeps a second model of the same shape for
 * drawing: predict may not run on a model while it trains, so the views copy the parameters across and predict
 * with the copy.
 */
export class Session {
  readonly model: Mlp;
  private readonly viewer: Mlp;
  readonly stepsPerEpoch: number;
  private readonly train: Fit;
  private readonly val: Fit;
  state: SessionState = 'ready';
  epochsDone = 0;
  stepsDone = 0;
  private fits = 0;
  private controller: AbortController | null = null;
  private running: Promise<void> | null = null;
  private viewing: Promise<unknown> = Promise.resolve();
  private starting: Promise<LayerParameters[]> | null = null;
  private disposed = false;

  constructor(
    readonly engine: Engine,
    readonly config: RunConfig,
    private readonly events: SessionEvents,
  ) {
    const { data, sizes, activations, loss, seed, batchSize, microBatchSize } = config;
    const shape = { sizes, activations, loss, seed, batchSize: Math.min(batchSize, data.train.n) };
    this.model = engine.mlp({ ...shape, microBatchSize });
    this.viewer = engine.mlp({ ...shape, batchSize: 256 });
    if (config.initial) this.model.setParameters(config.initial);
    this.stepsPerEpoch = Math.ceil(data.train.n / config.batchSize);
    const targets = (ds: DemoData['train']): Fit => ({
      x: ds.x,
      y: loss === 'cross_entropy' ? ds.y : oneHot(ds.y as Uint32Array, data.classes),
      inputScale: ds.inputScale,
    });
    this.train = targets(data.train);
    this.val = targets(data.val);
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

  /** The network's outputs for x, from a copy of the current parameters (works while training). */
  predict(x: Float32Array): Promise<Float32Array> {
    // One prediction at a time on the copy: each reads the parameters it was asked with.
    const next = this.viewing.then(async () => {
      if (this.disposed) throw new Error('session closed');
      this.viewer.setParameters(await this.model.getParameters());
      return this.viewer.predict(x);
    });
    this.viewing = next.catch(() => {});
    return next;
  }

  /**
   * The parameters before any training, read from the GPU once: the page draws an untrained or loaded model's
   * predictions from them on the CPU. Only meaningful while the state is 'ready'.
   */
  startingParameters(): Promise<LayerParameters[]> {
    this.starting ??= this.model.getParameters();
    return this.starting;
  }

  /** Loss and accuracy on the validation set (not while training). */
  evaluate(): Promise<{ loss: number; accuracy: number }> {
    return this.model.evaluate(this.val.x, this.val.y, { inputScale: this.val.inputScale });
  }

  /** The model as safetensors bytes, as the CLI's --out writes it (not while training). */
  save(): Promise<Uint8Array> {
    return this.model.save();
  }

  /** Stops training and frees the models' GPU memory. */
  async dispose(): Promise<void> {
    this.controller?.abort();
    await this.running;
    await this.viewing;
    this.disposed = true;
    this.model.dispose();
    this.viewer.dispose();
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
      const history = await this.model.fit(this.train, {
        epochs: config.epochs - this.epochsDone,
        batchSize: config.batchSize,
        // A new seed per fit: resuming with the same one would replay the first fit's shuffles.
        seed: config.seed + 1000 * this.fits++,
        optimizer: config.optimizer,
        // With its own horizon the schedule follows the optimizer's steps, so a resumed run carries on with it.
        schedule: { ...config.schedule, totalSteps: config.epochs * this.stepsPerEpoch },
        validation: this.val,
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
