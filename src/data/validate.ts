import { describe } from '../core/errors.js';
import type { Targets } from '../core/types.js';

/** Training or evaluation data as the user passes it: x [n, in] (bytes scaled by inputScale), y targets. */
export interface TrainingData {
  x: Float32Array | Uint8Array;
  y: Targets;
  /** Factor applied to a Uint8Array x on the GPU (e.g. 1/255 for pixels). Default 1. */
  inputScale?: number;
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
  // Bytes are scaled in float32 on the GPU: the largest byte times the scale must stay a finite float32.
  if (
    x instanceof Uint8Array &&
    data.inputScale !== undefined &&
    !Number.isFinite(Math.fround(255 * data.inputScale))
  ) {
    throw new RangeError(
      `${what}: inputScale ${data.inputScale} times a byte value up to 255 overflows float32 (max about 3.4e38)`,
    );
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
