/**
 * webgrad/worker: train in a dedicated Worker without writing message plumbing. The page keeps a Trainer; the
 * engine, the model and every submit, read-back and callback live in the worker, so training never competes
 * with the page's own work. Errors arrive as the same classes (TypeError, RangeError, DivergenceError,
 * DeviceLostError, ShaderError) with the same messages.
 *
 * ```ts
 * import { createTrainer } from 'webgrad/worker';
 * const trainer = await createTrainer({ model: { sizes: [2, 64, 2], activations: ['relu', 'identity'], loss: 'cross_entropy' } });
 * const train = await trainer.data({ x, y });            // x and y move to the worker (transferred, not copied)
 * const history = await trainer.fit(train, { epochs: 20, batchSize: 64, onEpoch: (e) => console.log(e.loss) });
 * const out = await trainer.predict(xNew);
 * const bytes = await trainer.save();                    // safetensors
 * trainer.terminate();
 * ```
 */
import { checkCallback } from '../core/errors.js';
import type { LayerParameters, MlpOptions } from '../core/types.js';
import type { TrainingData } from '../data/validate.js';
import type { EngineOptions } from '../engine.js';
import type { AdapterDescription } from '../gpu/device.js';
import type { MatmulVariantName } from '../gpu/kernels.js';
import type { EpochInfo, FitOptions, History, StepInfo } from '../train/options.js';
import { type Event, fromWire, type Reply, type Request } from './protocol.js';

/** How to start a trainer: the model (options, or a saved model's bytes), the engine's options, the worker. */
export interface TrainerOptions {
  /** MlpOptions for engine.mlp(), or safetensors bytes for engine.load(). */
  model: MlpOptions | Uint8Array;
  /** createEngine's options in the worker (an adapter, a device or a function cannot cross threads). */
  engine?: Omit<EngineOptions, 'adapter' | 'device' | 'onTiming'>;
  /**
   * EngineOptions.onTiming, called here on the page whenever the worker's engine is about to time its kernels (as
   * it starts, or on a replacement device after a loss).
   */
  onTiming?: EngineOptions['onTiming'];
  /**
   * The worker to train in. Default: a module worker on this package's worker script. Bundlers that pre-bundle
   * dependencies may not follow that script (vite: `optimizeDeps: { exclude: ['webgrad'] }`); passing
   * `new Worker(new URL('webgrad/worker-host', import.meta.url), { type: 'module' })` works everywhere.
   */
  worker?: Worker;
}

/** A dataset held by the worker; made by Trainer.data(). */
export interface DataHandle {
  readonly id: number;
  /** Rows of x. */
  readonly rows: number;
}

/** Mlp.fit's options, with the validation set as a handle; the callbacks run on the page. */
export type TrainerFitOptions = Omit<FitOptions, 'validation'> & { validation?: DataHandle };

let nextData = 1;

/** A trainer's model as the page sees it: its shape, as the worker built or loaded it, and Mlp's counts. */
export interface TrainerModel {
  readonly sizes: readonly number[];
  readonly activations: readonly string[];
  readonly loss: string;
  /** Most rows one GPU pass holds (Mlp.maxRows); larger batches run as several passes. */
  readonly maxRows: number;
  /** Floating-point operations of one training step per sample (Mlp.flopsPerSample). */
  readonly flopsPerSample: number;
  /** Trainable parameters (Mlp.parameterCount). */
  readonly parameterCount: number;
}

/** The worker's device: its limits as granted, and the matmul kernel with the block of C one workgroup covers. */
export interface TrainerDevice {
  readonly limits: Readonly<Record<string, number>>;
  readonly matmul: { readonly name: string; readonly rows: number; readonly cols: number };
}

/** What the worker answers to init. */
interface InitInfo {
  model: TrainerModel;
  adapter: AdapterDescription;
  device: TrainerDevice;
}

/** The page's side of a model that trains in a worker. */
export class Trainer {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; onEvent?: (e: Event) => void }
  >();
  private terminated = false;
  /** TrainerOptions.onTiming: the worker's engine times its kernels when it starts, and again after a loss. */
  private onTiming: TrainerOptions['onTiming'];
  /** The model's shape, as the worker built or loaded it (setModel() replaces it), and its counts. */
  model!: TrainerModel;
  /** The adapter the worker trains on, and its matmul kernel. */
  adapter!: AdapterDescription & { matmul: string };
  /** The worker's device limits and matmul kernel. */
  device!: TrainerDevice;

  private constructor(private readonly worker: Worker) {
    worker.addEventListener('message', (event: MessageEvent<Reply | Event>) => this.receive(event.data));
    worker.addEventListener('error', (event) =>
      this.failAll(new Error(`trainer: the worker failed: ${event.message}`)),
    );
  }

  /** @internal Brings up the worker's engine and model; see createTrainer(). */
  static async start(worker: Worker, options: TrainerOptions): Promise<Trainer> {
    const trainer = new Trainer(worker);
    try {
      const { onTiming } = options;
      checkCallback('createTrainer', 'onTiming', onTiming);
      trainer.onTiming = onTiming;
      const engine = { ...options.engine, sendTiming: onTiming !== undefined };
      const info = await trainer.call<InitInfo>('init', [engine, options.model]);
      trainer.model = info.model;
      trainer.adapter = { ...info.adapter, matmul: info.device.matmul.name };
      trainer.device = info.device;
      return trainer;
    } catch (error) {
      trainer.terminate();
      throw error;
    }
  }

  /**
   * Replaces the model by a new one, from MlpOptions or a saved model's bytes (copied), in the same worker and
   * engine: the kernels the engine compiled and the datasets sent stay, so a page that tries one model after
   * another starts no new worker or device for each. The old model is freed once the new one is built; if
   * building fails, the call rejects as createTrainer would and the old model stays. Refused while a fit runs.
   */
  async setModel(model: MlpOptions | Uint8Array): Promise<void> {
    this.model = await this.call<TrainerModel>('setModel', [model]);
  }

  /**
   * Sends a dataset to the worker. x and y are transferred: their buffers move to the worker and the arrays
   * here become empty. Pass copies (x.slice()) to keep them.
   */
  async data(data: TrainingData): Promise<DataHandle> {
    const id = nextData++;
    const transfer = [...new Set([data.x.buffer, data.y.buffer])] as ArrayBuffer[];
    const rows = data.x.length;
    await this.call('data', [id, data], transfer);
    return { id, rows };
  }

  /** Frees a dataset in the worker. */
  async release(handle: DataHandle): Promise<void> {
    await this.call('release', [handle.id]);
  }

  /** Mlp.fit in the worker. onStep and onEpoch run here as the worker reports; signal aborts between steps. */
  fit(train: DataHandle, options: TrainerFitOptions = {}): Promise<History> {
    const { onStep, onEpoch, signal, validation, ...rest } = options;
    const wire = { ...rest, validation: validation?.id, sendSteps: Boolean(onStep), sendEpochs: Boolean(onEpoch) };
    const id = this.nextId; // the id call() gives this fit's request, which abort names
    const abort = () => void this.call('abort', [id]).catch(() => {});
    if (signal?.aborted) queueMicrotask(abort);
    signal?.addEventListener('abort', abort, { once: true });
    const onEvent = (e: Event) => {
      if (e.event === 'step') onStep?.(e.info as StepInfo);
      else void onEpoch?.(e.info as EpochInfo);
    };
    return this.call<History>('fit', [train.id, wire], [], onEvent).finally(() =>
      signal?.removeEventListener('abort', abort),
    );
  }

  /** Mlp.predict in the worker: [b, out] for x [b, in] (x is copied, not transferred). */
  predict(x: Float32Array): Promise<Float32Array> {
    return this.call('predict', [x]);
  }

  /** Mlp.evaluate on a dataset the worker holds. */
  evaluate(data: DataHandle, options?: { batchSize?: number }): Promise<{ loss: number; accuracy: number }> {
    return this.call('evaluate', [data.id, options]);
  }

  getParameters(): Promise<LayerParameters[]> {
    return this.call('getParameters', []);
  }

  setParameters(params: LayerParameters[]): Promise<void> {
    return this.call('setParameters', [params]);
  }

  /** The model as safetensors bytes (Mlp.save). */
  save(options?: { optimizer?: boolean }): Promise<Uint8Array> {
    return this.call('save', [options]);
  }

  /** Optimizer steps taken so far (Mlp.stepCount). */
  stepCount(): Promise<number> {
    return this.call('stepCount', []);
  }

  /** Frees the engine and stops the worker; calls under way reject. */
  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.worker.terminate();
    this.failAll(new Error('trainer: terminated'));
  }

  private call<T>(
    op: string,
    args: unknown[],
    transfer: Transferable[] = [],
    onEvent?: (e: Event) => void,
  ): Promise<T> {
    if (this.terminated) return Promise.reject(new Error(`trainer: ${op} after terminate()`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent });
      this.worker.postMessage({ id, op, args } satisfies Request, transfer);
    });
  }

  private receive(message: Reply | Event): void {
    if ('event' in message && message.event === 'timing') {
      this.onTiming?.(message.info as readonly MatmulVariantName[]);
      return;
    }
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    if ('event' in message) {
      waiting.onEvent?.(message);
      return;
    }
    this.pending.delete(message.id);
    if (message.ok) waiting.resolve(message.value);
    else waiting.reject(fromWire(message.error));
  }

  private failAll(error: Error): void {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}

/**
 * Starts a worker, brings up an engine there and builds (or loads) the model. Rejects as engine.mlp() or
 * engine.load() would, with the same error classes.
 */
export function createTrainer(options: TrainerOptions): Promise<Trainer> {
  const worker = options.worker ?? new Worker(new URL('./host.js', import.meta.url), { type: 'module' });
  return Trainer.start(worker, options);
}
