import { chooseMatmul, type MatmulChoice, runnableVariants, runsOnCpu } from './gpu/autotune.js';
import { MATMUL_VARIANTS, type MatmulVariantName } from './gpu/kernels.js';
import { pollsWhileWaiting } from './gpu/pace.js';
import { describeAdapter, requestDevice } from './gpu/device.js';
import { NO_STORE, type TuningStore } from './gpu/tuning-store.js';
import { type DeviceSource, Runtime } from './gpu/runtime.js';
import { checkCallback } from './core/errors.js';
import type { MlpOptions } from './core/types.js';
import { decodeModel } from './io/model-file.js';
import type { Architecture } from './io/state-dict.js';
import { Mlp } from './model.js';
import type { Checkpoint } from './nn/network.js';

/** How to get a device: pass one you own, or an adapter, or let the engine ask the GPU object for one. */
export interface EngineOptions {
  adapter?: GPUAdapter;
  device?: GPUDevice;
  powerPreference?: GPUPowerPreference;
  /**
   * The matmul kernel: 'auto' (default: the fastest of the kernels made for the kind of adapter, timed once per
   * adapter; on CPU implementations of WebGPU such as SwiftShader, where that takes seconds, the decision is kept
   * between runs), 'timed' (the fastest of all the device can run) or a variant by name. See MatmulChoice.
   */
  matmul?: MatmulChoice;
  /**
   * Called just before the engine times its matmul kernels where that is slow, with the variants it times: on an
   * adapter that runs shaders on the CPU, the first engine of a process or origin (and the first after the kernels
   * changed) spends a few seconds on it, then the choice is kept. A page can say why it waits. Not called where a
   * kept choice is used, nor on GPUs, where timing takes milliseconds.
   */
  onTiming?: (variants: readonly MatmulVariantName[]) => void;
}

/** The architecture of a file without webgrad's metadata (a PyTorch state_dict): see Engine.load. */
export type LoadOptions = Architecture;

/**
 * A WebGPU device with webgrad's compiled kernels, and the factory of models on it. Owns every GPU buffer its
 * models make, so memory() is exact and destroy() frees all of it. It listens to device.lost and uncaptured
 * errors: an unexpected loss makes every call fail with a DeviceLostError until recover() brings up a new
 * device (fit() does that itself, and every model training at the time resumes from its last checkpoint).
 */
export class Engine extends Runtime {
  /** @internal How the kernel was chosen, to choose again on a replacement device from another adapter. */
  tuning: { choice: MatmulChoice; store: TuningStore } = { choice: 'auto', store: NO_STORE };

  /** Builds a multilayer perceptron on this engine; see MlpOptions. */
  mlp(options: MlpOptions): Mlp {
    this.check();
    return new Mlp(this, options);
  }

  /**
   * Rebuilds a model saved with model.save() (safetensors bytes). The file is checked as untrusted input
   * before anything is allocated for it; optimizer state and preprocessing saved with it are restored.
   *
   * With `options` ({ activations, loss }), a file without webgrad's metadata loads too: a PyTorch
   * nn.Sequential state_dict saved with safetensors (`0.weight`, `0.bias`, `2.weight`, …; any increasing
   * indices), one activation per Linear layer. When the names or shapes do not fit, the RangeError lists the
   * tensors found and the names expected. A webgrad file loaded with options must agree with them.
   */
  async load(bytes: Uint8Array, options?: LoadOptions): Promise<Mlp> {
    this.check();
    const file = decodeModel(bytes, options);
    const model = this.mlp({ sizes: file.sizes, activations: file.activations, loss: file.loss });
    try {
      model.setParameters(file.params);
      if (file.optimizer) model.restoreOptimizer(file.optimizer);
      model.preprocessing = file.preprocessing;
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  /**
   * @internal A replacement device gets what createEngine would give it where it differs from the one lost (another
   * adapter, say the software one after a GPU lost for good, or no subgroups): its own waits, and its kernel chosen
   * again as the engine's was ('auto' and 'timed' for that adapter, a kept decision reused). A named kernel stays
   * where the device runs it; 'subgroup' becomes 'wide' without subgroups of four, the same blocking unshared.
   */
  protected override async replaced(adapter: GPUAdapter): Promise<void> {
    const before = JSON.stringify(this.adapter);
    await super.replaced(adapter);
    this.chooseWaits();
    const { choice, store } = this.tuning;
    const runs = await runnableVariants(this);
    if (choice !== 'auto' && choice !== 'timed') {
      const variant = MATMUL_VARIANTS[runs.includes(choice) ? choice : 'wide'];
      this.useMatmul({ variant, timings: null });
    } else if (JSON.stringify(this.adapter) !== before || !runs.includes(this.matmul.name)) {
      this.useMatmul(await chooseMatmul(this, choice, store));
    }
  }

  /**
   * @internal Reads wait in probes (see gpu/pace.ts) where waiting for the GPU polls on the CPU that also runs the
   * shaders: Node on SwiftShader, say.
   */
  chooseWaits(): void {
    this.pacedReads = runsOnCpu(this.adapter) && pollsWhileWaiting();
  }

  /**
   * Replaces a lost device: requests a new one, compiles the kernels again and rebuilds every model's buffers.
   * Models restore their parameters from `checkpoints` (a running fit uses its own last CPU checkpoint); a
   * model without one reports the loss on its next call.
   */
  async recover(checkpoints: Map<Mlp, Checkpoint> = new Map()): Promise<void> {
    for (const [model, checkpoint] of checkpoints) model.network.recovery = checkpoint;
    await this.recoverDevice();
  }
}

/**
 * Requests an adapter and device (with the adapter's own limits), compiles the kernels, and returns an Engine.
 * `store` keeps slow kernel choices between runs (see MatmulChoice); `onDestroy` runs when the engine is destroyed.
 */
export async function createEngineFrom(
  gpu: GPU | undefined,
  options: EngineOptions = {},
  { store = NO_STORE, onDestroy }: { store?: TuningStore; onDestroy?: () => void } = {},
): Promise<Engine> {
  const choice = options.matmul ?? 'auto';
  if (choice !== 'auto' && choice !== 'timed' && !Object.hasOwn(MATMUL_VARIANTS, choice)) {
    const names = ['auto', 'timed', ...Object.keys(MATMUL_VARIANTS)].map((k) => `'${k}'`).join(', ');
    throw new TypeError(`createEngine: matmul must be one of ${names}; got ${JSON.stringify(choice)}`);
  }
  checkCallback('createEngine', 'onTiming', options.onTiming);
  let device = options.device;
  let adapter = options.adapter;
  if (!device) ({ device, adapter } = await requestDevice(gpu, adapter, options.powerPreference));
  // An adapter gives one device: after a loss, a new adapter is requested (possible with a GPU object).
  const source: DeviceSource = options.device
    ? null
    : gpu
      ? () => requestDevice(gpu, undefined, options.powerPreference)
      : null;
  const engine = new Engine(device, describeAdapter(device, adapter), source, onDestroy);
  try {
    await engine.pipelines.compileAll();
    // First, so that timing the kernels waits in probes too.
    engine.chooseWaits();
    engine.tuning = { choice, store: withTimingHook(store, options.onTiming) };
    engine.useMatmul(await chooseMatmul(engine, choice, engine.tuning.store));
  } catch (error) {
    // A device the caller passed in stays theirs, usable for another try.
    engine.close(!options.device);
    throw error;
  }
  return engine;
}

/** `store` that also tells `onTiming` when it is about to be asked to keep a fresh timing. */
function withTimingHook(store: TuningStore, onTiming: EngineOptions['onTiming']): TuningStore {
  if (!onTiming) return store;
  return {
    get: (key) => store.get(key),
    set: (key, value) => store.set(key, value),
    willTime: (names) => {
      store.willTime?.(names);
      onTiming(names);
    },
  };
}
