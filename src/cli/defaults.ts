import type { Init } from '../api.js';

// Kept free of Node's modules, so the demo page can bundle it and train a CSV file as the command line does.

/** What a dataset trains well with when no flag says otherwise. */
export interface Defaults {
  hidden: number[];
  /** Epochs; with `steps`, the fewest. */
  epochs: number;
  /** When given: epochs enough for about this many steps (at least `epochs`, at most MAX_TABLE_EPOCHS). */
  steps?: number;
  batchSize: number;
  learningRate: number;
  /** Early stopping's patience in epochs; 0: off. */
  patience: number;
  init: Init;
}

/**
 * CSV tables (a few hundred to a few thousand rows, say): Adam at 1e-3 with batches of 32 for about 1,500 steps
 * (20 to 500 epochs), early stopping after 20 epochs without a better validation loss, torch.nn.Linear's
 * initialisation, one hidden layer of 64. See bench/tables.py for how these compare.
 */
export const TABLE_DEFAULTS: Defaults = {
  hidden: [64],
  epochs: 20,
  steps: 1500,
  batchSize: 32,
  learningRate: 1e-3,
  patience: 20,
  init: 'torch',
};

/** The most epochs a CSV file's step budget gives. */
export const MAX_TABLE_EPOCHS = 500;

/** The defaults' epochs; for a step budget, enough epochs of `rows` rows in batches of `batchSize` for it. */
export function defaultEpochs(d: Defaults, rows: number, batchSize: number): number {
  if (d.steps === undefined) return d.epochs;
  const perEpoch = Math.ceil(rows / batchSize);
  return Math.min(MAX_TABLE_EPOCHS, Math.max(d.epochs, Math.ceil(d.steps / perEpoch)));
}
