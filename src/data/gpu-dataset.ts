import type { Engine } from '../engine.js';
import { describe } from '../core/errors.js';
import type { Random } from '../core/random.js';
import { SLOT_BYTES } from '../gpu/pipelines.js';
import { type Dispatch, DispatchBuilder, grid, record } from '../gpu/dispatch.js';
import type { Targets } from '../core/types.js';

/** Training or evaluation data as the user passes it: x [n, in] (bytes scaled by inputScale), y targets. */
export interface TrainingData {
  x: Float32Array | Uint8Array;
  y: Targets;
  /** Factor applied to a Uint8Array x on the GPU (e.g. 1/255 for pixels). Default 1. */
  inputScale?: number;
}

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
    private readonly engine: Engine,
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
    this.x = engine.createBuffer('dataset-x', xBytes, S.STORAGE | S.COPY_DST);
    this.y = engine.createBuffer('dataset-y', data.y.length * 4, S.STORAGE | S.COPY_DST);
    this.order = engine.createBuffer('dataset-order', n * 4, S.STORAGE | S.COPY_DST);
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
      this.engine.write(this.x, 0, padded);
    } else {
      this.engine.write(this.x, 0, data.x);
    }
    this.engine.write(this.y, 0, data.y);
  }

  /**
   * Finds a NaN or ±Inf in the float inputs and targets on the GPU, where the data already is: one pass of
   * finite_check.wgsl per array and one small readback. Returns the first bad value's place, or null.
   */
  async findNonFinite(): Promise<{ array: 'x' | 'y'; index: number } | null> {
    const engine = this.engine;
    const arrays: ['x' | 'y', GPUBuffer, number][] = [];
    if (!this.bytes) arrays.push(['x', this.x, this.n * this.inputs]);
    if (!this.yIndices) arrays.push(['y', this.y, this.n * this.outputs]);
    if (arrays.length === 0) return null;
    const S = GPUBufferUsage;
    // One 256-byte slot per array: storage bindings must start at a multiple of the offset alignment.
    const result = engine.createBuffer('finite-check', 2 * SLOT_BYTES, S.STORAGE | S.COPY_SRC | S.COPY_DST);
    const init = new Uint32Array((2 * SLOT_BYTES) / 4);
    init[1] = init[SLOT_BYTES / 4 + 1] = 0xffffffff;
    engine.write(result, 0, init);
    const made: GPUBuffer[] = [result];
    const encoder = engine.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    arrays.forEach(([, buffer, count], k) => {
      const list: Dispatch[] = [];
      const builder = new DispatchBuilder(engine);
      builder.add(
        list,
        'finite_check',
        {},
        [count],
        [buffer, { buffer: result, offset: SLOT_BYTES * k, size: 8 }],
        grid(engine, count, 64),
      );
      made.push(builder.build('finite-check-uniforms'));
      record(pass, list, 0);
    });
    pass.end();
    try {
      const reads = await engine.readBack(
        encoder,
        arrays.map((_, k) => ({ buffer: result, offset: SLOT_BYTES * k, size: 8 })),
      );
      for (let k = 0; k < arrays.length; k++) {
        const [count, first] = new Uint32Array(reads[k].buffer, reads[k].byteOffset, 2);
        if (count > 0) return { array: arrays[k][0], index: first };
      }
      return null;
    } finally {
      for (const b of made) engine.releaseBuffer(b);
    }
  }

  /** Sets the row order batches are drawn in (a permutation, or a sample with replacement). */
  setOrder(order: Uint32Array): void {
    this.engine.write(this.order, 0, order);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const b of [this.x, this.y, this.order]) this.engine.releaseBuffer(b);
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

/**
 * Checks data against a model's shape before anything reaches the GPU: types, lengths, class indices in range,
 * and (for float inputs and targets) that every value is finite. Returns the number of rows.
 */
export function validateData(
  data: TrainingData,
  inputs: number,
  outputs: number,
  indicesAllowed: boolean,
  what: string,
  checkFinite = true,
): number {
  if (typeof data !== 'object' || data === null) {
    throw new TypeError(`${what}: expected data { x, y }, got ${describe(data)}`);
  }
  const { x, y } = data;
  if (!(x instanceof Float32Array || x instanceof Uint8Array)) {
    throw new TypeError(`${what}: x must be a Float32Array or Uint8Array [n, ${inputs}], got ${describe(x)}`);
  }
  const n = validateInputs(x, inputs, what, checkFinite);
  if (data.inputScale !== undefined && !(typeof data.inputScale === 'number' && Number.isFinite(data.inputScale))) {
    throw new TypeError(`${what}: inputScale must be a finite number, got ${describe(data.inputScale)}`);
  }
  if (y instanceof Uint32Array) {
    if (!indicesAllowed) throw new TypeError(`${what}: class indices (Uint32Array) need the cross_entropy loss`);
    if (y.length !== n)
      throw new RangeError(`${what}: y must hold ${n} class indices (one per row of x), got ${y.length}`);
    for (let i = 0; i < n; i++) {
      if (y[i] >= outputs) throw new RangeError(`${what}: y[${i}] = ${y[i]} is not a class index in [0, ${outputs})`);
    }
  } else if (y instanceof Float32Array) {
    if (y.length !== n * outputs) {
      throw new RangeError(`${what}: y must hold ${n}x${outputs} = ${n * outputs} targets, got ${y.length}`);
    }
    const bad = checkFinite ? firstNonFinite(y) : -1;
    if (bad >= 0) {
      throw new RangeError(
        `${what}: y must be finite, got ${y[bad]} at row ${Math.floor(bad / outputs)}, column ${bad % outputs}`,
      );
    }
  } else {
    throw new TypeError(`${what}: y must be a Float32Array [n, ${outputs}] or Uint32Array [n], got ${describe(y)}`);
  }
  return n;
}

/**
 * Checks inputs x [n, inputs]: a whole number n >= 1 of rows and, for floats when asked, only finite values.
 * Returns n.
 */
export function validateInputs(x: Float32Array | Uint8Array, inputs: number, what: string, checkFinite = true): number {
  if (x.length === 0 || x.length % inputs !== 0) {
    throw new RangeError(
      `${what}: x must hold n x ${inputs} values (n >= 1) for a ${inputs}-input model, got ${x.length}`,
    );
  }
  if (x instanceof Float32Array && checkFinite) {
    const bad = firstNonFinite(x);
    if (bad >= 0) {
      throw new RangeError(
        `${what}: x must be finite, got ${x[bad]} at row ${Math.floor(bad / inputs)}, column ${bad % inputs}`,
      );
    }
  }
  return x.length / inputs;
}

/** Index of the first NaN or ±Infinity in `a`, or -1. */
export function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) {
    // x - x is NaN exactly for NaN and ±Infinity: one subtraction instead of isFinite's call.
    if (a[i] - a[i] !== 0) return i;
  }
  return -1;
}
