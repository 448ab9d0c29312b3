/**
 * The worker side of webgrad/worker: a dedicated Worker that owns an engine and one model, and trains it on
 * requests from the page's Trainer. Loaded by createTrainer(); a page never imports it.
 */
import {
  createEngine,
  type EngineOptions,
  type FitOptions,
  type Mlp,
  type MlpOptions,
  type TrainingData,
} from '../index.js';
import { type Request, toWire } from './protocol.js';

interface Scope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<Request>) => void): void;
}
const scope = globalThis as unknown as Scope;

let model: Mlp | null = null;
let engine: Awaited<ReturnType<typeof createEngine>> | null = null;
const datasets = new Map<number, TrainingData>();
const fits = new Map<number, AbortController>();

/** Fit options as they cross: no functions; the validation set by its handle; which events to send. */
type WireFit = Omit<FitOptions, 'onStep' | 'onEpoch' | 'signal' | 'validation'> & {
  validation?: number;
  sendSteps?: boolean;
  sendEpochs?: boolean;
};

const ops: Record<string, (id: number, ...args: never[]) => unknown> = {
  async init(
    id,
    { sendTiming, ...engineOptions }: EngineOptions & { sendTiming?: boolean },
    spec: MlpOptions | Uint8Array,
  ) {
    const onTiming = sendTiming ? (info: unknown) => scope.postMessage({ id, event: 'timing', info }) : undefined;
    engine ??= await createEngine({ ...engineOptions, onTiming });
    const { adapter, matmul } = engine;
    const device = {
      limits: plainLimits(engine.limits),
      matmul: { name: matmul.name, rows: matmul.rows, cols: matmul.cols },
    };
    return { model: await build(spec), adapter, device };
  },
  setModel(_id, spec: MlpOptions | Uint8Array) {
    if (fits.size > 0) throw new Error('setModel: fit() is running on this model; await it first');
    return build(spec);
  },
  data(_id, handle: number, data: TrainingData) {
    datasets.set(handle, data);
    return null;
  },
  release(_id, handle: number) {
    datasets.delete(handle);
    return null;
  },
  async fit(id, handle: number, options: WireFit) {
    const { validation, sendSteps, sendEpochs, ...rest } = options;
    const controller = new AbortController();
    fits.set(id, controller);
    try {
      return await current().fit(dataset(handle), {
        ...rest,
        validation: validation === undefined ? undefined : dataset(validation),
        signal: controller.signal,
        onStep: sendSteps ? (info) => scope.postMessage({ id, event: 'step', info }) : undefined,
        onEpoch: sendEpochs ? (info) => scope.postMessage({ id, event: 'epoch', info }) : undefined,
      });
    } finally {
      fits.delete(id);
    }
  },
  abort(_id, fitId: number) {
    fits.get(fitId)?.abort();
    return null;
  },
  predict: (_id, x: Float32Array) => current().predict(x),
  evaluate: (_id, handle: number, options?: { batchSize?: number }) => {
    const { x, y, inputScale } = dataset(handle);
    return current().evaluate(x, y, { ...options, inputScale });
  },
  getParameters: () => current().getParameters(),
  setParameters: (_id, params: Parameters<Mlp['setParameters']>[0]) => current().setParameters(params),
  save: (_id, options?: { optimizer?: boolean }) => current().save(options),
  stepCount: () => current().stepCount,
  dispose() {
    engine?.destroy();
    engine = model = null;
    return null;
  },
};

/** Builds (or loads) the model that replaces the current one, which is freed only once the new one stands. */
async function build(spec: MlpOptions | Uint8Array) {
  if (!engine) throw new Error('trainer: no engine yet');
  const next = spec instanceof Uint8Array ? await engine.load(spec) : engine.mlp(spec);
  model?.dispose();
  model = next;
  const { sizes, activations, loss, maxRows, flopsPerSample, parameterCount } = next;
  return { sizes, activations, loss, maxRows, flopsPerSample, parameterCount };
}

/** The device's limits as a plain object (GPUSupportedLimits cannot be cloned into a message). */
function plainLimits(limits: GPUSupportedLimits): Record<string, number> {
  const plain: Record<string, number> = {};
  for (const key in limits) {
    const value = limits[key as keyof GPUSupportedLimits];
    if (typeof value === 'number') plain[key] = value;
  }
  return plain;
}

function current(): Mlp {
  if (!model) throw new Error('trainer: no model yet');
  return model;
}

function dataset(handle: number): TrainingData {
  const data = datasets.get(handle);
  if (!data) throw new Error(`trainer: no dataset ${handle} (released, or never sent)`);
  return data;
}

/** Typed arrays of a reply whose buffers can move to the page instead of being copied. */
function transferables(value: unknown): Transferable[] {
  if (ArrayBuffer.isView(value)) return [value.buffer as ArrayBuffer];
  if (Array.isArray(value)) return value.flatMap((v) => transferables(v));
  if (value && typeof value === 'object') return Object.values(value).flatMap((v) => transferables(v));
  return [];
}

scope.addEventListener('message', async ({ data: { id, op, args } }) => {
  try {
    const run = ops[op];
    if (!run) throw new TypeError(`trainer: unknown request ${JSON.stringify(op)}`);
    const value = await run(id, ...(args as never[]));
    scope.postMessage({ id, ok: true, value }, [...new Set(transferables(value))]);
  } catch (error) {
    scope.postMessage({ id, ok: false, error: toWire(error) });
  }
});
