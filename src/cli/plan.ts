import type { Activation, Init, Loss, OptimizerOptions, ScheduleOptions } from '../api.js';
import type { Prepared } from './datasets.js';
import { defaultEpochs } from './defaults.js';
import { type TrainArgs, UsageError } from './options.js';

/** The model, optimizer and schedule a run uses: the flags, else the dataset's defaults. */
export interface RunPlan {
  sizes: number[];
  activations: Activation[];
  loss: Loss;
  optimizer: OptimizerOptions;
  schedule: ScheduleOptions;
  batchSize: number;
  epochs: number;
  /** Early stopping's patience in epochs; 0: off. */
  patience: number;
  init: Init;
}

/** The run's plan: the flags, else the dataset's defaults. */
export function planRun(args: TrainArgs, data: Prepared): RunPlan {
  const d = data.defaults;
  const sizes = resolveSizes(args.sizes, data.inputs, data.outputs, d.hidden);
  const loss = args.loss ?? (data.task === 'regression' ? 'mse' : 'cross_entropy');
  if (data.task === 'regression' && loss !== 'mse') {
    throw new UsageError(`--loss: regression trains with mse (square loss), got ${loss}`);
  }
  const activations = resolveActivations(args.activations, sizes.length - 1, loss);
  const type = args.optimizer ?? 'adam';
  const learningRate = args.lr ?? (type === 'sgd' ? 0.1 : d.learningRate);
  const weightDecay = args.weightDecay ?? 0;
  const optimizer: OptimizerOptions =
    type === 'sgd'
      ? { type, learningRate, momentum: args.momentum ?? 0.9, weightDecay }
      : { type, learningRate, weightDecay };
  if (args.momentum !== undefined && type !== 'sgd') {
    throw new UsageError(`--momentum applies to --optimizer sgd, but the optimizer is ${type}`);
  }
  const name = args.schedule ?? 'cosine';
  const schedule: ScheduleOptions = name === 'constant' ? { type: name } : { type: name, minFactor: 0.02 };
  if (args.warmup > 0) schedule.warmupSteps = args.warmup;
  const batchSize = args.batchSize ?? d.batchSize;
  return {
    sizes,
    activations,
    loss,
    optimizer,
    schedule,
    batchSize,
    epochs: args.epochs ?? defaultEpochs(d, data.train.n, batchSize),
    patience: data.val ? (args.patience ?? d.patience) : 0,
    init: d.init,
  };
}

/** Full widths from --sizes: taken as given when they start and end with the data's sizes, else as hidden widths. */
function resolveSizes(given: number[] | undefined, inputs: number, outputs: number, hidden: number[]): number[] {
  if (!given) return [inputs, ...hidden, outputs];
  if (given.length >= 2 && given[0] === inputs && given[given.length - 1] === outputs) return given;
  return [inputs, ...given, outputs];
}

function resolveActivations(given: Activation[] | undefined, layers: number, loss: Loss): Activation[] {
  const hidden = layers - 1;
  let acts: Activation[];
  if (!given) acts = [...Array(hidden).fill('relu'), 'identity'];
  else if (given.length === layers) acts = given;
  else if (given.length === hidden) acts = [...given, 'identity'];
  else if (given.length === 1) acts = [...Array(hidden).fill(given[0]), 'identity'];
  else {
    throw new UsageError(
      `--activations: expected ${layers} names (one per layer) or ${hidden} (one per hidden layer), got ${given.length}`,
    );
  }
  const last = acts[layers - 1];
  if (loss !== 'mse' && last !== 'identity') {
    const fused = loss === 'cross_entropy' ? 'softmax' : 'sigmoid';
    throw new UsageError(
      `--activations: the ${loss} loss applies ${fused} itself, so the output layer needs identity, got ${last}`,
    );
  }
  return acts;
}
