import { circles, type Dataset, moons, type Preprocessing, twoSpirals, xor } from '../../src/index.js';

/** A table from a CSV file: what the page needs to score and describe a run on it. */
export interface TableRun {
  file: string;
  preprocessing: Preprocessing;
  /** Why the task was chosen, in the library's words. */
  reason: string;
  /** Regression: the validation rows' targets in their own units, [n, labels] row-major. */
  valTargets?: Float64Array;
}

/** The datasets the page offers: generated ones, MNIST, and a CSV file of the user's (csv-source.ts). */
export type DatasetName = 'spiral' | 'moons' | 'circles' | 'xor' | 'mnist' | 'csv';

/** Training and validation data for one run, with what the views need to draw it. */
export interface DemoData {
  name: DatasetName;
  train: Dataset;
  val: Dataset;
  inputs: number;
  /** Outputs of the model: classes, or a table's regression targets. */
  classes: number;
  /** A CSV file's run: its preprocessing and what scoring its validation rows needs. */
  table?: TableRun;
  /** 2-D sets: half the side of the square the decision regions cover, centred on the origin. */
  extent?: number;
}

const GENERATORS = { spiral: twoSpirals, moons, circles, xor } as const;

/** Rows held out for validation: enough for a steady curve, few enough to evaluate quickly on a slow adapter. */
const VAL_ROWS_2D = 1000;
const VAL_ROWS_MNIST = 1000;

/**
 * Builds a dataset of `rows` training rows. 2-D sets are generated at that size (validation points come from
 * another seed); MNIST has 7,996 training digits, so larger sizes repeat them, which lets batches grow far past
 * what one dispatch holds.
 */
export async function makeData(
  name: Exclude<DatasetName, 'csv'>,
  rows: number,
  noise: number,
  seed: number,
): Promise<DemoData> {
  if (name === 'mnist') {
    // 21 MB of digits: fetched only when MNIST is picked.
    const { loadMnist } = await import('../../src/data/mnist.js');
    const all = loadMnist({ test: VAL_ROWS_MNIST });
    const train = rows <= all.train.n ? loadMnist({ train: rows, test: 0 }).train : tile(all.train, rows);
    return { name, train, val: all.test, inputs: 784, classes: 10 };
  }
  const make = GENERATORS[name];
  const train = make(rows, { seed, noise });
  const val = make(VAL_ROWS_2D, { seed: seed + 7919, noise });
  let extent = 0;
  for (const v of train.x.subarray(0, 2 * Math.min(train.n, 20_000))) extent = Math.max(extent, Math.abs(v));
  return { name, train, val, inputs: 2, classes: 2, extent: Math.ceil(extent * 1.1 * 10) / 10 };
}

/** `rows` rows of `ds`, cycling through it. */
function tile(ds: Dataset, rows: number): Dataset {
  const d = ds.inputs;
  const x = new Uint8Array(rows * d);
  const y = new Uint32Array(rows);
  for (let r = 0; r < rows; r += ds.n) {
    const n = Math.min(ds.n, rows - r);
    x.set(ds.x.subarray(0, n * d) as Uint8Array, r * d);
    y.set(ds.y.subarray(0, n) as Uint32Array, r);
  }
  return { ...ds, x, y, n: rows };
}

/** Rows [from, from + count) of a dataset's inputs as floats, as predict takes them. */
export function rowsAsFloat(ds: Dataset, from: number, count: number): Float32Array {
  const d = ds.inputs;
  const src = ds.x.subarray(from * d, (from + count) * d);
  const scale = ds.inputScale ?? 1;
  return Float32Array.from(src, (v) => v * scale);
}
