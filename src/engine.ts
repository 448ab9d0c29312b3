import { chooseMatmul, type MatmulChoice, type MatmulTimings } from './gpu/autotune.js';
import { type Checkpoint, Mlp } from './model.js';
import { loadModel } from './io/model-file.js';
import { Pipelines, SLOT_BYTES } from './gpu/pipelines.js';
import { MATMUL_VARIANTS, type MatmulVariant } from './nn/plan.js';
import type { MlpOptions } from './core/types.js';

/** How to get a device: pass one you own, or an adapter, or let the engine ask the GPU object for one. */
export interface EngineOptions {
  adapter?: GPUAdapter;
  device?: GPUDevice;
  powerPreference?: GPUPowerPreference;
  /**
   * The matmul kernel: 'auto' (default: 'wide' on CPU implementations of WebGPU such as SwiftShader; on GPUs
   * the faster of 'regular' and 'tiled', timed once per adapter), 'timed' (the fastest of all, timed) or a
   * variant by name. See MatmulChoice.
   */
  matmul?: MatmulChoice;
}

/** What the engine runs on, for logs and benchmark tables. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The adapter is a fallback (software) implementation, as the adapter itself reports. */
  fallback: boolean;
}

/** Live GPU memory owned by an engine and its models. */
export interface MemoryReport {
  buffers: number;
  bytes: number;
}

// Limits raised to the adapter's own values: the spec defaults (128 MiB bindings, 256 MiB buffers) would cap
// batch sizes far below what the hardware holds.
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** A byte range of a buffer to read back. */
export interface ReadRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

/** Mappable buffers kept for reuse by readBack; more are made while reads overlap. */
const STAGING_KEPT = 4;

/** The device was lost (driver reset, GPU removed, or a simulated loss); see Engine.recover(). */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

/** How the engine gets a device, again after a loss: null where the caller supplied the device itself. */
type DeviceSource = (() => Promise<{ device: GPUDevice; adapter: GPUAdapter }>) | null;

/**
 * A WebGPU device with webgrad's compiled kernels. Owns every GPU buffer its models make, so memory() is
 * exact and destroy() frees all of it. It listens to device.lost and uncaptured errors: an unexpected loss
 * makes every call fail with a DeviceLostError until recover() brings up a new device (fit() does that itself).
 */
export class Engine {
  /** The current device (a new one after recover()). */
  device!: GPUDevice;
  /** @internal */ pipelines!: Pipelines;
  /** @internal Small buffers bound where a kernel's binding is unused (a binding cannot be left empty). */
  dummyRead!: GPUBuffer;
  /** @internal */ dummyWrite!: GPUBuffer;
  private matmulChoice: { variant: MatmulVariant; timings: MatmulTimings | null } = {
    variant: MATMUL_VARIANTS.regular,
    timings: null,
  };
  private readonly live = new Map<GPUBuffer, number>();
  private staging: GPUBuffer[] = [];
  private readonly models = new Set<Mlp>();
  private failure: Error | null = null;
  private destroyed = false;
  private simulatedLoss = false;

  /** Use createEngine() from 'webgrad' or 'webgrad/node'. */
  constructor(
    device: GPUDevice,
    readonly adapter: AdapterDescription,
    private source: DeviceSource = null,
    private readonly onDestroy: () => void = () => {},
  ) {
    this.attach(device);
  }

  private attach(device: GPUDevice): void {
    this.device = device;
    this.failure = null;
    this.simulatedLoss = false;
    this.live.clear();
    this.staging = [];
    this.pipelines = new Pipelines(device);
    device.addEventListener('uncapturederror', (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      this.failure ??= new Error(`WebGPU error: ${error.message}`);
    });
    device.lost.then((info) => {
      if (this.device !== device || this.destroyed) return;
      if (info.reason === 'destroyed' && !this.simulatedLoss) return;
      this.failure = new DeviceLostError(`webgrad: the GPU device was lost (${info.reason}: ${info.message})`);
    });
    this.dummyRead = this.createBuffer('dummy-read', SLOT_BYTES, GPUBufferUsage.STORAGE);
    this.dummyWrite = this.createBuffer('dummy-write', SLOT_BYTES, GPUBufferUsage.STORAGE);
  }

  /** The matmul kernel every model of this engine uses, fixed when the engine is made (EngineOptions.matmul). */
  get matmul(): MatmulVariant {
    return this.matmulChoice.variant;
  }

  /** Milliseconds per variant of the timing that chose `matmul` (perhaps an earlier engine's); null if untimed. */
  get matmulTimings(): MatmulTimings | null {
    return this.matmulChoice.timings;
  }

  /** @internal Sets the matmul kernel; only before any model is built, as createEngine does. */
  useMatmul(choice: { variant: MatmulVariant; timings: MatmulTimings | null }): void {
    if (this.models.size > 0) throw new Error('webgrad: the matmul kernel cannot change once models exist');
    this.matmulChoice = choice;
  }

  /** The device's limits, as granted. */
  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** True after an unexpected device loss, until recover(). */
  get lost(): boolean {
    return this.failure instanceof DeviceLostError;
  }

  /**
   * Replaces a lost device: requests a new one, compiles the kernels again and rebuilds every model's buffers.
   * Models restore their parameters from `checkpoints` (fit passes its last CPU checkpoint); a model without one
   * reports the loss on its next call.
   */
  async recover(checkpoints: Map<Mlp, Checkpoint> = new Map()): Promise<void> {
    if (this.destroyed) throw new Error('webgrad: this engine was destroyed; create a new one with createEngine()');
    if (!this.source) {
      throw new DeviceLostError(
        'webgrad: the device was lost and it was supplied by the caller, so it cannot be replaced',
      );
    }
    const { device } = await this.source();
    this.attach(device);
    await this.pipelines.compileAll();
    for (const model of this.models) model.rebuild(checkpoints.get(model) ?? null);
  }

  /**
   * Loses the device the way a driver reset would (the engine treats it as unexpected). For testing recovery:
   * a fit() in progress restores its last checkpoint on a new device and carries on.
   */
  loseDevice(): void {
    this.simulatedLoss = true;
    this.device.destroy();
  }

  /** Builds a multilayer perceptron on this engine; see MlpOptions. */
  mlp(options: MlpOptions): Mlp {
    this.check();
    const model = new Mlp(this, options);
    this.models.add(model);
    return model;
  }

  /**
   * Rebuilds a model saved with model.save() (safetensors bytes). The file is checked as untrusted input
   * before anything is allocated for it; optimizer state saved with it is restored.
   */
  async load(bytes: Uint8Array): Promise<Mlp> {
    this.check();
    return loadModel(this, bytes);
  }

  /** Live GPU buffers and bytes held by this engine and its models. */
  memory(): MemoryReport {
    let bytes = 0;
    for (const size of this.live.values()) bytes += size;
    return { buffers: this.live.size, bytes };
  }

  /** Resolves when all submitted GPU work has finished; rejects if the device reported an error. */
  async finish(): Promise<void> {
    this.check();
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  /** Frees every buffer and the device. The engine and its models cannot be used afterwards. */
  destroy(): void {
    if (this.destroyed) return;
    for (const model of [...this.models]) model.dispose();
    for (const buffer of this.live.keys()) buffer.destroy();
    this.live.clear();
    this.destroyed = true;
    this.source = null;
    this.device.destroy();
    this.onDestroy();
  }

  /** @internal A zero-filled buffer counted by memory(). */
  createBuffer(label: string, size: number, usage: GPUBufferUsageFlags): GPUBuffer {
    this.check();
    // Bindings need 4-byte multiples and at least one vec4; keep every buffer that large.
    const bytes = Math.max(16, Math.ceil(size / 16) * 16);
    const max = this.device.limits.maxBufferSize;
    if (bytes > max) {
      throw new RangeError(`${label}: needs a ${bytes}-byte buffer but the device's maxBufferSize is ${max}`);
    }
    const buffer = this.device.createBuffer({ label, size: bytes, usage });
    this.live.set(buffer, bytes);
    return buffer;
  }

  /**
   * @internal Copies ranges into one mappable buffer at the end of `encoder`, submits it, and resolves with
   * each range as a Float32Array once the GPU is done. Nothing waits on the CPU meanwhile.
   */
  async readBack(encoder: GPUCommandEncoder, ranges: ReadRange[]): Promise<Float32Array[]> {
    const total = ranges.reduce((n, r) => n + r.size, 0);
    let buffer = this.staging.pop();
    if (buffer && buffer.size < total) {
      this.releaseBuffer(buffer);
      buffer = undefined;
    }
    buffer ??= this.createBuffer('staging', total, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    let at = 0;
    for (const r of ranges) {
      encoder.copyBufferToBuffer(r.buffer, r.offset, buffer, at, r.size);
      at += r.size;
    }
    const device = this.device;
    device.queue.submit([encoder.finish()]);
    try {
      await buffer.mapAsync(GPUMapMode.READ, 0, total);
    } catch (error) {
      this.check();
      throw error;
    }
    const bytes = buffer.getMappedRange(0, total).slice(0);
    buffer.unmap();
    if (this.device === device && this.staging.length < STAGING_KEPT && this.live.has(buffer))
      this.staging.push(buffer);
    else this.releaseBuffer(buffer);
    this.check();
    at = 0;
    return ranges.map((r) => {
      const view = new Float32Array(bytes, at, r.size / 4);
      at += r.size;
      return view;
    });
  }

  /** @internal Queues a write of typed-array data (shared or not) to a buffer. */
  write(buffer: GPUBuffer, offset: number, data: ArrayBufferView | ArrayBuffer): void {
    this.device.queue.writeBuffer(buffer, offset, data as ArrayBufferView<ArrayBuffer>);
  }

  /** @internal */
  releaseBuffer(buffer: GPUBuffer): void {
    if (this.live.delete(buffer)) buffer.destroy();
  }

  /** @internal */
  forget(model: Mlp): void {
    this.models.delete(model);
  }

  /** @internal Throws if the engine was destroyed, or the device was lost or reported an error. */
  check(): void {
    if (this.destroyed) throw new Error('webgrad: this engine was destroyed; create a new one with createEngine()');
    if (this.failure) throw this.failure;
  }
}

/** Requests an adapter and device (with the adapter's own limits), compiles the kernels, and returns an Engine. */
export async function createEngineFrom(
  gpu: GPU | undefined,
  options: EngineOptions = {},
  onDestroy?: () => void,
): Promise<Engine> {
  const choice = options.matmul ?? 'auto';
  if (choice !== 'auto' && choice !== 'timed' && !Object.hasOwn(MATMUL_VARIANTS, choice)) {
    const names = ['auto', 'timed', ...Object.keys(MATMUL_VARIANTS)].map((k) => `'${k}'`).join(', ');
    throw new TypeError(`createEngine: matmul must be one of ${names}; got ${JSON.stringify(choice)}`);
  }
  const request = async (adapter?: GPUAdapter) => {
    if (!adapter) {
      if (!gpu) throw new Error('webgrad: WebGPU is not available here (no navigator.gpu)');
      adapter = (await gpu.requestAdapter({ powerPreference: options.powerPreference })) ?? undefined;
      if (!adapter) throw new Error('webgrad: no WebGPU adapter could be found');
    }
    const requiredLimits: Record<string, number> = {};
    for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
    const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
    return { device, adapter };
  };
  let device = options.device;
  let adapter = options.adapter;
  if (!device) ({ device, adapter } = await request(adapter));
  const info = adapter?.info ?? device.adapterInfo;
  const description: AdapterDescription = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    fallback: Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter),
  };
  // An adapter gives one device: after a loss, a new adapter is requested (possible with a GPU object).
  const source: DeviceSource = options.device ? null : gpu ? () => request() : null;
  const engine = new Engine(device, description, source, onDestroy);
  try {
    await engine.pipelines.compileAll();
    engine.useMatmul(await chooseMatmul(engine, choice));
  } catch (error) {
    engine.destroy();
    throw error;
  }
  return engine;
}
