import { DeviceLostError } from '../core/errors.js';
import { type AdapterDescription, describeAdapter } from './device.js';
import { MATMUL_VARIANTS, type MatmulTimings, type MatmulVariant, SLOT_BYTES } from './kernels.js';
import { mapWhenDone, Pace, type PacedRead } from './pace.js';
import { Pipelines } from './pipelines.js';

/** Live GPU memory owned by an engine and its models. */
export interface MemoryReport {
  buffers: number;
  bytes: number;
}

/** A byte range of a buffer to read back. */
export interface ReadRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

/**
 * Something that keeps GPU state on a runtime: told to make it again on a new device after a loss, and to free
 * it when the runtime is destroyed.
 */
export interface Resident {
  rebuild(): void;
  dispose(): void;
}

/** How a runtime gets a device, again after a loss: null where the caller supplied the device itself. */
export type DeviceSource = (() => Promise<{ device: GPUDevice; adapter: GPUAdapter }>) | null;

/** Mappable buffers kept for reuse by readBack; more are made while reads overlap. */
const STAGING_KEPT = 4;

/**
 * The device and everything on it: compiled kernels, every buffer (so memory() is exact and destroy() frees all
 * of it), reads back to the CPU, and the residents (models) to rebuild after a loss. It listens to device.lost
 * and uncaptured errors: an unexpected loss, or a device destroyed under it, makes every call fail with a
 * DeviceLostError until recover() brings up a new device.
 */
export class Runtime {
  /** The current device (a new one after recover()). */
  device!: GPUDevice;
  /** @internal */ pipelines!: Pipelines;
  /** @internal Small buffers bound where a kernel's binding is unused (a binding cannot be left empty). */
  dummyRead!: GPUBuffer;
  /** @internal */ dummyWrite!: GPUBuffer;
  /**
   * @internal Whether reads wait without a pending map (see gpu/pace.ts): those given a Pace sleep first, and all
   * map in short probes. Set in Node on adapters that run on the CPU, where a pending map keeps a core polling.
   */
  pacedReads = false;
  /** @internal The queue's pace, learned from paced reads (one queue, so one pace for every model on it). */
  readonly pace = new Pace();
  /** @internal Devices brought up so far: work recorded on an older one died with it. */
  generation = 0;
  private matmulChoice: { variant: MatmulVariant; timings: MatmulTimings | null } = {
    variant: MATMUL_VARIANTS.regular,
    timings: null,
  };
  private readonly live = new Map<GPUBuffer, number>();
  private staging: GPUBuffer[] = [];
  private readonly residents = new Set<Resident>();
  private failure: Error | null = null;
  private destroyed = false;
  private recovering: Promise<void> | null = null;

  private described: AdapterDescription;

  constructor(
    device: GPUDevice,
    adapter: AdapterDescription,
    private source: DeviceSource = null,
    private readonly onDestroy: () => void = () => {},
  ) {
    this.described = adapter;
    this.attach(device);
  }

  private attach(device: GPUDevice): void {
    this.device = device;
    this.generation++;
    this.failure = null;
    this.live.clear();
    this.staging = [];
    this.pipelines = new Pipelines(device);
    device.addEventListener('uncapturederror', (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      this.failure ??= new Error(`WebGPU error: ${error.message}`);
    });
    device.lost.then((info) => {
      // Only this runtime's own destroy() is expected; a device destroyed by anyone else is a loss like any other.
      if (this.device !== device || this.destroyed) return;
      const why = info.message ? `${info.reason}: ${info.message}` : info.reason;
      this.failure = new DeviceLostError(`webgrad: the GPU device was lost (${why})`);
    });
    this.dummyRead = this.createBuffer('dummy-read', SLOT_BYTES, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    this.dummyWrite = this.createBuffer('dummy-write', SLOT_BYTES, GPUBufferUsage.STORAGE);
  }

  /** The adapter the device came from (after a loss, the replacement's). */
  get adapter(): AdapterDescription {
    return this.described;
  }

  /** The matmul kernel every model uses, fixed when the engine is made (EngineOptions.matmul). */
  get matmul(): MatmulVariant {
    return this.matmulChoice.variant;
  }

  /** Milliseconds per variant of the timing that chose `matmul` (perhaps an earlier engine's); null if untimed. */
  get matmulTimings(): MatmulTimings | null {
    return this.matmulChoice.timings;
  }

  /**
   * @internal Sets the matmul kernel: before any model is built, as createEngine does, or while a replacement
   * device comes up, before the models are rebuilt on it (see replaced()).
   */
  useMatmul(choice: { variant: MatmulVariant; timings: MatmulTimings | null }): void {
    if (this.residents.size > 0 && !this.recovering) {
      throw new Error('webgrad: the matmul kernel cannot change once models exist');
    }
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
   * @internal Replaces a lost device: requests a new one, compiles the kernels again and rebuilds every
   * resident. Calls made while a replacement is under way share it; `since` (a generation) makes the call a
   * no-op when the device has been replaced since then.
   */
  recoverDevice(since = this.generation): Promise<void> {
    if (this.destroyed) {
      return Promise.reject(new Error('webgrad: this engine was destroyed; create a new one with createEngine()'));
    }
    if (this.recovering) return this.recovering;
    if (this.generation !== since) return Promise.resolve();
    const source = this.source;
    if (!source) {
      return Promise.reject(
        new DeviceLostError('webgrad: the device was lost and it was supplied by the caller, so it cannot be replaced'),
      );
    }
    this.recovering = (async () => {
      const { device, adapter } = await source();
      this.attach(device);
      await this.pipelines.compileAll();
      await this.replaced(adapter);
      for (const resident of this.residents) resident.rebuild();
    })().finally(() => {
      this.recovering = null;
    });
    return this.recovering;
  }

  /**
   * @internal Called on a replacement device before the models are rebuilt on it (and set their row limits for
   * it): records the adapter it came from. The Engine fits its waits and its matmul kernel to it.
   */
  protected async replaced(adapter: GPUAdapter): Promise<void> {
    this.described = describeAdapter(this.device, adapter);
  }

  /**
   * Loses the device the way a driver reset would (the engine treats it as unexpected). For testing recovery:
   * a fit() in progress restores its last checkpoint on a new device and carries on.
   */
  loseDevice(): void {
    this.device.destroy();
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
    // A read of one word, queued behind all the work, waits as reads do: in probes where a pending wait polls.
    // (A map waits for the work that uses its buffer, so the read must copy something.)
    if (this.pacedReads) {
      await this.readBack(this.device.createCommandEncoder(), [{ buffer: this.dummyRead, offset: 0, size: 4 }]);
    } else await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  /** Frees every buffer and the device. The engine and its models cannot be used afterwards. */
  destroy(): void {
    this.close(true);
  }

  /** @internal destroy(), leaving the device alone where `device` is false (one the caller owns). */
  close(device: boolean): void {
    if (this.destroyed) return;
    for (const resident of [...this.residents]) resident.dispose();
    for (const buffer of this.live.keys()) buffer.destroy();
    this.live.clear();
    this.destroyed = true;
    this.source = null;
    if (device) this.device.destroy();
    this.onDestroy();
  }

  /** @internal Registers state to rebuild after a device loss and to free with the runtime. */
  adopt(resident: Resident): void {
    this.residents.add(resident);
  }

  /** @internal */
  forget(resident: Resident): void {
    this.residents.delete(resident);
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

  /** The smallest kept mappable buffer of at least `bytes`, or a new one (a power of two, so few sizes are made). */
  private takeStaging(bytes: number): GPUBuffer {
    let best = -1;
    this.staging.forEach((b, i) => {
      if (b.size >= bytes && (best < 0 || b.size < this.staging[best].size)) best = i;
    });
    if (best >= 0) return this.staging.splice(best, 1)[0];
    const size = Math.max(256, 2 ** Math.ceil(Math.log2(bytes)));
    return this.createBuffer('staging', size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  }

  /**
   * Keeps a mappable buffer for the next read, or frees it: at most STAGING_KEPT are kept, the largest, so the
   * set settles once the largest reads have been seen, however reads happen to overlap.
   */
  private returnStaging(buffer: GPUBuffer, device: GPUDevice): void {
    if (this.device !== device || !this.live.has(buffer)) {
      this.releaseBuffer(buffer);
      return;
    }
    this.staging.push(buffer);
    if (this.staging.length <= STAGING_KEPT) return;
    const smallest = this.staging.reduce((m, b, i) => (b.size < this.staging[m].size ? i : m), 0);
    this.releaseBuffer(this.staging.splice(smallest, 1)[0]);
  }

  /**
   * @internal Copies ranges into one mappable buffer at the end of `encoder`, submits it, and resolves with
   * each range as a Float32Array once the GPU is done. Nothing waits on the CPU meanwhile. With pacedReads set,
   * the map is made in short probes, and with `paced` (the submit holds `units` of work, in flops) it first
   * waits as the pace estimates for its `kind` of work (see gpu/pace.ts).
   */
  async readBack(encoder: GPUCommandEncoder, ranges: ReadRange[], paced?: PacedRead): Promise<Float32Array[]> {
    const total = ranges.reduce((n, r) => n + r.size, 0);
    const buffer = this.takeStaging(total);
    let at = 0;
    for (const r of ranges) {
      encoder.copyBufferToBuffer(r.buffer, r.offset, buffer, at, r.size);
      at += r.size;
    }
    const device = this.device;
    device.queue.submit([encoder.finish()]);
    const ticket = paced && this.pacedReads ? this.pace.submit(paced.units, paced.kind) : null;
    try {
      if (ticket) await this.pace.wait(ticket);
      const mapped = performance.now();
      if (this.pacedReads) {
        const probes = await mapWhenDone(buffer, total, ticket ? ticket.rate.msPerUnit * ticket.units : 0);
        if (ticket) this.pace.done(ticket, probes === 1 ? 0 : performance.now() - mapped);
      } else await buffer.mapAsync(GPUMapMode.READ, 0, total);
    } catch (error) {
      if (ticket) this.pace.done(ticket, 0, false);
      // A map aborted because the device went away: report the loss, not the bare AbortError, once the
      // device's lost promise has had its moment to settle.
      await Promise.race([device.lost, new Promise((resolve) => setTimeout(resolve, 100))]);
      this.check();
      if (this.device !== device) throw new DeviceLostError('webgrad: the GPU device was lost during a read');
      throw error;
    }
    const bytes = buffer.getMappedRange(0, total).slice(0);
    buffer.unmap();
    this.returnStaging(buffer, device);
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

  /** @internal Throws if the engine was destroyed, or the device was lost or reported an error. */
  check(): void {
    if (this.destroyed) throw new Error('webgrad: this engine was destroyed; create a new one with createEngine()');
    if (this.failure) throw this.failure;
  }
}
