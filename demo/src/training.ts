import type { OptimizerOptions, ScheduleOptions } from '../../src/index.js';

/**
 * The optimizers and schedules the page offers, with their fixed settings: AdamW's weight decay of 0.01, SGD's
 * momentum of 0.9, decays to 2% (cosine, linear) or 1% (exponential) of the rate over the run.
 */

/** The optimizer named in the settings; a learning rate that is not a positive number is 0.01. */
export function optimizerFor(type: OptimizerOptions['type'], lr: number): OptimizerOptions {
  const learningRate = Number.isFinite(lr) && lr > 0 ? lr : 0.01;
  return type === 'sgd'
    ? { type, learningRate, momentum: 0.9 }
    : { type, learningRate, weightDecay: type === 'adamw' ? 0.01 : 0 };
}

/** The schedule named in the settings, for a run of `totalSteps` steps. */
export function scheduleFor(name: string, totalSteps: number): ScheduleOptions {
  switch (name) {
    case 'cosine':
    case 'linear':
      return { type: name, minFactor: 0.02 };
    case 'step':
      return { type: 'step', stepSize: Math.max(1, Math.ceil(totalSteps / 2)), gamma: 0.1 };
    case 'exponential':
      return { type: 'exponential', gamma: 0.01 ** (1 / Math.max(1, totalSteps)) };
    default:
      return { type: 'constant' };
  }
}

const OPTIMIZER_NOTES: Record<string, string> = {
  adam: 'Adam',
  adamw: 'AdamW with weight decay 0.01',
  sgd: 'SGD with momentum 0.9',
};
const SCHEDULE_NOTES: Record<string, string> = {
  constant: 'a constant learning rate',
  cosine: 'cosine decay to 2% of it',
  linear: 'linear decay to 2% of it',
  step: 'the rate cut tenfold half-way',
  exponential: 'exponential decay to 1% of it',
};

/** "Adam, cosine decay to 2% of it after 100 warmup steps." */
export function trainingNote(optimizer: string, schedule: string, warmup: number): string {
  return (
    `${OPTIMIZER_NOTES[optimizer]}, ${SCHEDULE_NOTES[schedule]}` +
    `${warmup > 0 ? ` after ${warmup} warmup steps` : ''}.`
  );
}
