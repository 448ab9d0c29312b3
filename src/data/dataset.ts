import { Random } from '../core/random.js';

/**
 * A supervised dataset held in flat typed arrays, ready to upload to the GPU.
 */
export interface Dataset {
  /**
   * Inputs, [n, inputs] row-major. A Uint8Array is multiplied by `inputScale` when uploaded, which keeps image
   * data at a quarter of the memory of floats.
   */
  x: Float32Array | Uint8Array;
  /** Class indices (Uint32Array [n]) or regression/probability targets (Float32Array [n, outputs]). */
  y: Float32Array | Uint32Array;
  /** Number of rows. */
  n: number;
  /** Features per row. */
  inputs: number;
  /** Number of classes, for classification data. */
  classes?: number;
  /** Factor applied to a Uint8Array `x` when uploaded (e.g. 1/255); 1 when omitted. */
  inputScale?: number;
}

/** Values of `y` per row: 1 for class indices, the target width for Float32Array targets. */
function targetWidth(ds: Dataset): number {
  if (ds.y instanceof Uint32Array || ds.n === 0) return 1;
  return ds.y.length / ds.n;
}

/**
 * The rows at `indices`, in that order, copied into new arrays. Other properties of `ds` (classes, inputScale,
 * a CSV's labels) are carried over unchanged.
 */
export function subset<T extends Dataset>(ds: T, indices: ArrayLike<number>): T {
  const m = indices.length;
  const d = ds.inputs;
  const w = targetWidth(ds);
  const x = ds.x instanceof Uint8Array ? new Uint8Array(m * d) : new Float32Array(m * d);
  const y = ds.y instanceof Uint32Array ? new Uint32Array(m * w) : new Float32Array(m * w);
  for (let i = 0; i < m; i++) {
    const r = indices[i];
    if (!Number.isInteger(r) || r < 0 || r >= ds.n) {
      throw new RangeError(`subset: index ${r} (position ${i}) is outside 0..${ds.n - 1}`);
    }
    x.set(ds.x.subarray(r * d, (r + 1) * d), i * d);
    y.set(ds.y.subarray(r * w, (r + 1) * w), i * w);
  }
  return { ...ds, x, y, n: m };
}

/**
 * Shuffles the rows with `seed`, then puts the first round(n · testFraction) of them in `test` and the rest in
 * `train`. The same seed always gives the same split.
 */
export function splitDataset<T extends Dataset>(ds: T, testFraction: number, seed = 0): { train: T; test: T } {
  if (!(testFraction >= 0 && testFraction <= 1)) {
    throw new RangeError(`splitDataset: testFraction must be in [0, 1], got ${testFraction}`);
  }
  const order = new Random(seed).permutation(ds.n);
  const nTest = Math.round(ds.n * testFraction);
  return { train: subset(ds, order.subarray(nTest)), test: subset(ds, order.subarray(0, nTest)) };
}

/** Class indices as one-hot rows, for the losses that take float targets. */
export function oneHot(y: Uint32Array, classes: number): Float32Array {
  const out = new Float32Array(y.length * classes);
  for (let i = 0; i < y.length; i++) out[i * classes + y[i]] = 1;
  return out;
}
