import { Mlp } from './model.js';
import { loadModel } from './model-file.js';
import { Pipelines, SLOT_BYTES } from './pipelines.js';
import type { MlpOptions } from './types.js';

/** How to get a device: pass one you own, or an adapter, or let the engine ask the GPU object for one. */
export interface EngineOptions {
  adapter?: GPUAdapter;
  device?: GPUDevice;
  powerPreference?: GPUPowerPreference;
}

/** What the engine runs on, for logs and benchmark tables. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
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

/**
 * A WebGPU device with webgrad's compiled kernels. Owns every GPU buffer its models make, so memory() is
 * exact and destroy() frees all of it.
 */
export class Engine {
  readonly pipelines: Pipelines;
  /** Small buffers bound where a kernel's binding is unused (a binding cannot be left empty). */
  readonly dummyRead: GPUBuffer;
  readonly dummyWrite: GPUBuffer;
  private readonly live = new Map<GPUBuffer, number>();
  private readonly models = new Set<Mlp>();
  private failure: Error | null = null;
  private destroyed = false;

  /** Use createEngine() from 'webgrad' or 'webgrad/node'. */
  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
    private readonly onDestroy: () => void = () => {},
  ) {
    this.pipelines = new Pipelines(device);
    device.addEventListener('uncapturederror', (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      this.failure ??= new Error(`WebGPU error: ${error.message}`);
    });
    this.dummyRead = this.createBuffer('dummy-read', SLOT_BYTES, GPUBufferUsage.STORAGE);
    this.dummyWrite = this.createBuffer('dummy-write', SLOT_BYTES, GPUBufferUsage.STORAGE);
  }

  /** The device's limits, as granted. */
  get limits(): GPUSupportedLimits {
    return this.device.limits;
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

  /** @internal Throws if the engine was destroyed or the device reported an error. */
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
  let device = options.device;
  let adapter = options.adapter;
  if (!device) {
    if (!adapter) {
      if (!gpu) throw new Error('webgrad: WebGPU is not available here (no navigator.gpu)');
      adapter = (await gpu.requestAdapter({ powerPreference: options.powerPreference })) ?? undefined;
      if (!adapter) throw new Error('webgrad: no WebGPU adapter could be found');
    }
    const requiredLimits: Record<string, number> = {};
    for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
    const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  }
  const info = adapter?.info ?? device.adapterInfo;
  const description: AdapterDescription = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  };
  const engine = new Engine(device, description, onDestroy);
  try {
    await engine.pipelines.compileAll();
  } catch (error) {
    engine.destroy();
    throw error;
  }
  return engine;
}
