import type { Random } from '../core/random.js';
import { type Dispatch, DispatchBuilder, grid, record } from '../gpu/dispatch.js';
import { dims, SLOT_BYTES } from '../gpu/kernels.js';
import type { Runtime } from '../gpu/runtime.js';
import { type TrainingData, validateData } from './validate.js';

/** Datasets with more values than this are checked for NaN and ±Inf on the GPU rather than the CPU. */
export const GPU_CHECK_VALUES = 1 << 22;

let nextId = 1;

/**
 * A dataset uploaded once and kept on the GPU: x as f32 bits or bytes packed four to a u32, y as f32 bits or
 * u32 class indices, and `order`, the row order of the current epoch, from which the gather kernel draws batches.
 */
export class GpuDataset {
  readonly id = nextId++;
  readonly x: GPUBuffer;
  readonly y: GPUBuffer;
  readonly order: GPUBuffer;
  readonly bytes: boolean;
  readonly yIndices: boolean;
  readonly scale: number;
  private released = false;

  constructor(
    private readonly runtime: Runtime,
    readonly n: number,
    readonly inputs: number,
    readonly outputs: number,
    data: TrainingData,
  ) {
    const S = GPUBufferUsage;
    this.bytes = data.x instanceof Uint8Array;
    this.yIndices = data.y instanceof Uint32Array;
    this.scale = data.inputScale ?? 1;
    const xBytes = this.bytes ? Math.ceil(data.x.length / 4) * 4 : data.x.length * 4;
    this.x = runtime.createBuffer('dataset-x', xBytes, S.STORAGE | S.COPY_DST);
    this.y = runtime.createBuffer('dataset-y', data.y.length * 4, S.STORAGE | S.COPY_DST);
    this.order = runtime.createBuffer('dataset-order', n * 4, S.STORAGE | S.COPY_DST);
    this.write(data);
    this.setOrder(identity(n));
  }

  /** Whether `data` has this dataset's shape and types, so its buffers can take it. */
  fits(data: TrainingData, n: number): boolean {
    return (
      n === this.n &&
      (data.inputScale ?? 1) === this.scale &&
      data.x instanceof Uint8Array === this.bytes &&
      data.y instanceof Uint32Array === this.yIndices
    );
  }

  /** Uploads the values of `data` (same shape) into this dataset's buffers. */
  write(data: TrainingData): void {
    if (this.bytes) {
      // writeBuffer wants a multiple of 4 bytes; the tail of the last word is never read.
      const padded = new Uint8Array(Math.ceil(data.x.length / 4) * 4);
      padded.set(data.x as Uint8Array);
      this.runtime.write(this.x, 0, padded);
    } else {
      this.runtime.write(this.x, 0, data.x);
    }
    this.runtime.write(this.y, 0, data.y);
  }

  /**
   * Finds a NaN or ±Inf in the float inputs and targets on the GPU, where the data already is: one pass of
   * finite_check.wgsl per array and one small readback. Returns the first bad value's place, or null.
   */
  async findNonFinite(): Promise<{ array: 'x' | 'y'; index: number } | null> {
    const runtime = this.runtime;
    const arrays: ['x' | 'y', GPUBuffer, number][] = [];
    if (!this.bytes) arrays.push(['x', this.x, this.n * this.inputs]);
    if (!this.yIndices) arrays.push(['y', this.y, this.n * this.outputs]);
    if (arrays.length === 0) return null;
    const S = GPUBufferUsage;
    // One 256-byte slot per array: storage bindings must start at a multiple of the offset alignment.
    const result = runtime.createBuffer('finite-check', 2 * SLOT_BYTES, S.STORAGE | S.COPY_SRC | S.COPY_DST);
    const init = new Uint32Array((2 * SLOT_BYTES) / 4);
    init[1] = init[SLOT_BYTES / 4 + 1] = 0xffffffff;
    runtime.write(result, 0, init);
    const made: GPUBuffer[] = [result];
    const encoder = runtime.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    arrays.forEach(([, buffer, count], k) => {
      const list: Dispatch[] = [];
      const builder = new DispatchBuilder(runtime);
      builder.add(
        list,
        'finite_check',
        {},
        dims.finite_check({ count }),
        [buffer, { buffer: result, offset: SLOT_BYTES * k, size: 8 }],
        grid(runtime, count, 64),
      );
      made.push(builder.build('finite-check-uniforms'));
      record(pass, list, 0);
    });
    pass.end();
    try {
      const reads = await runtime.readBack(
        encoder,
        arrays.map((_, k) => ({ buffer: result, offset: SLOT_BYTES * k, size: 8 })),
      );
      for (let k = 0; k < arrays.length; k++) {
        const [count, first] = new Uint32Array(reads[k].buffer, reads[k].byteOffset, 2);
        if (count > 0) return { array: arrays[k][0], index: first };
      }
      return null;
    } finally {
      for (const b of made) runtime.releaseBuffer(b);
    }
  }

  /** Sets the row order batches are drawn in (a permutation, or a sample with replacement). */
  setOrder(order: Uint32Array): void {
    this.runtime.write(this.order, 0, order);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const b of [this.x, this.y, this.order]) this.runtime.releaseBuffer(b);
  }
}

/** 0, 1, …, n − 1. */
export function identity(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

/** n row indices drawn uniformly with replacement: each batch's gradient is then an unbiased estimate. */
export function withReplacement(n: number, rng: Random): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = rng.int(n);
  return order;
}

/** A model's shape as its datasets must match it. */
export interface DataShape {
  inputs: number;
  outputs: number;
  /** Class indices (Uint32Array targets) are allowed: the cross_entropy loss. */
  indices: boolean;
}

/**
 * The GPU copies of the datasets a model trains and evaluates on: buffers made once per x array and kept while
 * that array lives, values uploaded on every call (the caller may have changed them in place). Small data is
 * checked for NaN and ±Inf on the CPU before upload; large data on the GPU after it, and released again if bad.
 */
export class DatasetCache {
  private byArray = new WeakMap<object, GpuDataset>();
  private readonly live = new Set<GpuDataset>();

  constructor(
    private readonly runtime: Runtime,
    private readonly shape: DataShape,
  ) {}

  /** The dataset of `data` on the GPU, checked against the model's shape; `what` names the call in errors. */
  async get(data: TrainingData, what: string): Promise<GpuDataset> {
    const { inputs, outputs, indices } = this.shape;
    const big = (data?.x?.length ?? 0) + (data?.y?.length ?? 0) > GPU_CHECK_VALUES;
    const n = validateData(data, inputs, outputs, indices, what, !big);
    let ds = this.byArray.get(data.x);
    if (ds?.fits(data, n)) {
      ds.write(data);
    } else {
      if (ds) this.drop(ds, data.x);
      ds = new GpuDataset(this.runtime, n, inputs, outputs, data);
      this.byArray.set(data.x, ds);
      this.live.add(ds);
    }
    if (big) {
      const bad = await ds.findNonFinite();
      if (bad) {
        this.drop(ds, data.x);
        const width = bad.array === 'x' ? inputs : outputs;
        throw new RangeError(
          `${what}: ${bad.array} must be finite, found NaN or Infinity at row ${Math.floor(bad.index / width)} ` +
            `of ${n}, column ${bad.index % width}`,
        );
      }
    }
    return ds;
  }

  /** Forgets every dataset without touching its buffers, which died with a lost device. */
  forgetAll(): void {
    this.byArray = new WeakMap();
    this.live.clear();
  }

  /** Frees every dataset's buffers. */
  releaseAll(): void {
    for (const ds of this.live) ds.release();
    this.forgetAll();
  }

  private drop(ds: GpuDataset, key: object): void {
    ds.release();
    this.live.delete(ds);
    this.byArray.delete(key);
  }
}
