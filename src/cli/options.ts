import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  ACTIVATIONS,
  type Activation,
  type Impute,
  LOSSES,
  type Loss,
  type OptimizerOptions,
  type Task,
} from '../api.js';
import { columns, fraction, integer, list, nonNegative, number, oneOf, optional, positive, sizes } from './flags.js';
import { UsageError } from './usage.js';

export { UsageError };

/** Names accepted by --dataset besides a CSV file path. */
export const DATASETS = ['mnist', 'spiral', 'moons', 'circles', 'xor'] as const;
export type DatasetName = (typeof DATASETS)[number];

export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
/** Schedules that need no parameters beyond the optimizer's learning rate and a warmup. */
export const SCHEDULES = ['constant', 'cosine', 'linear'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];
const TASK_NAMES = ['classification', 'regression'] as const;
const IMPUTE_NAMES = ['mean', 'median'] as const;

/** What `webgrad train` was asked for; undefined fields fall back to the dataset's defaults. */
export interface TrainArgs {
  dataset: string;
  labelColumns?: (string | number)[];
  task?: Task;
  impute?: Impute;
  samples?: number;
  testFraction: number;
  testFile?: string;
  validationFraction: number;
  patience?: number;
  sizes?: number[];
  activations?: Activation[];
  loss?: Loss;
  optimizer?: OptimizerOptions['type'];
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  schedule?: ScheduleName;
  warmup: number;
  batchSize?: number;
  epochs?: number;
  seed: number;
  out?: string;
  json: boolean;
  progress: boolean;
  checkGradients: boolean;
}

/** What `webgrad predict` and `webgrad evaluate` were asked for. */
export interface ApplyArgs {
  model: string;
  dataset: string;
  /** For a model without preprocessing (a PyTorch state_dict): the label columns to leave out or score on. */
  labelColumns?: (string | number)[];
  /** For a file without webgrad's metadata: its architecture. */
  activations?: Activation[];
  loss?: Loss;
  json: boolean;
  out?: string;
}

export type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'train'; args: TrainArgs }
  | { kind: 'predict' | 'evaluate'; args: ApplyArgs };

const COMMANDS = ['train', 'predict', 'evaluate'] as const;

const OPTIONS = {
  dataset: { type: 'string' },
  'label-column': { type: 'string' },
  task: { type: 'string' },
  impute: { type: 'string' },
  samples: { type: 'string' },
  'test-fraction': { type: 'string' },
  'test-file': { type: 'string' },
  'validation-fraction': { type: 'string' },
  patience: { type: 'string' },
  model: { type: 'string' },
  sizes: { type: 'string' },
  activations: { type: 'string' },
  loss: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  schedule: { type: 'string' },
  warmup: { type: 'string' },
  'batch-size': { type: 'string' },
  epochs: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  'check-gradients': { type: 'boolean' },
  'no-progress': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** The flags predict and evaluate take; train takes every flag but --model. */
const APPLY_FLAGS = ['dataset', 'model', 'label-column', 'activations', 'loss', 'json', 'out', 'no-progress'];

/** Parses argv (without node and the script); throws UsageError for anything it cannot use. */
export function parseCommand(argv: string[], stdoutIsTTY: boolean): Command {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(explainParseError(error as Error));
  }
  const { values: v, positionals } = parsed;
  if (v.help || positionals[0] === 'help') return { kind: 'help' };
  if (v.version) return { kind: 'version' };
  if (positionals.length === 0) throw new UsageError(`expected a command: ${COMMANDS.join(', ')}`);
  const command = positionals[0];
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new UsageError(`unknown command "${command}"; expected: ${COMMANDS.join(', ')}`);
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}" after ${command}`);
  if (command === 'train') return { kind: 'train', args: trainArgs(v, stdoutIsTTY) };
  return { kind: command as 'predict' | 'evaluate', args: applyArgs(command, v) };
}

function trainArgs(v: Values, stdoutIsTTY: boolean): TrainArgs {
  if (v.model !== undefined) throw new UsageError('--model applies to predict and evaluate; train makes a model');
  const dataset = v.dataset ?? 'mnist';
  const isCsv = !(DATASETS as readonly string[]).includes(dataset);
  if (isCsv && !existsSync(dataset)) {
    throw new UsageError(
      `--dataset: expected one of ${DATASETS.join(', ')} or a CSV file, got "${dataset}" (no such file)`,
    );
  }
  for (const flag of ['label-column', 'task', 'impute', 'test-file'] as const) {
    if (v[flag] !== undefined && !isCsv) {
      throw new UsageError(`--${flag} applies to CSV files only, but --dataset is ${dataset}`);
    }
  }
  if (v.samples !== undefined && isCsv) {
    throw new UsageError('--samples applies to the built-in datasets only; a CSV file trains on all its rows');
  }
  checkTestFile(v);
  const testFraction = v['test-fraction'] === undefined ? 0.2 : number('--test-fraction', v['test-fraction']);
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new UsageError(`--test-fraction: expected a number between 0 and 1 (exclusive), got ${v['test-fraction']}`);
  }
  const validationFraction = optional(v['validation-fraction'], (s) => fraction('--validation-fraction', s)) ?? 0.1;
  const patience = optional(v.patience, (s) => integer('--patience', s, 0));
  if (patience !== undefined && patience > 0 && validationFraction === 0) {
    throw new UsageError(
      '--patience watches the validation loss, but --validation-fraction 0 leaves no validation rows',
    );
  }
  return {
    dataset,
    labelColumns: optional(v['label-column'], columns),
    task: optional(v.task, (s) => oneOf('--task', s, TASK_NAMES)),
    impute: optional(v.impute, (s) => oneOf('--impute', s, IMPUTE_NAMES)),
    samples: optional(v.samples, (s) => integer('--samples', s, 1)),
    testFraction,
    testFile: v['test-file'],
    validationFraction,
    patience,
    sizes: optional(v.sizes, sizes),
    activations: optional(v.activations, (s) => list('--activations', s, ACTIVATIONS)),
    loss: optional(v.loss, (s) => oneOf('--loss', s, LOSSES)),
    optimizer: optional(v.optimizer, (s) => oneOf('--optimizer', s, OPTIMIZERS)),
    lr: optional(v.lr, (s) => positive('--lr', s)),
    momentum: optional(v.momentum, (s) => fraction('--momentum', s)),
    weightDecay: optional(v['weight-decay'], (s) => nonNegative('--weight-decay', s)),
    schedule: optional(v.schedule, (s) => oneOf('--schedule', s, SCHEDULES)),
    warmup: v.warmup === undefined ? 0 : integer('--warmup', v.warmup, 0),
    batchSize: optional(v['batch-size'], (s) => integer('--batch-size', s, 1)),
    epochs: optional(v.epochs, (s) => integer('--epochs', s, 1)),
    seed: v.seed === undefined ? 0 : integer('--seed', v.seed, 0),
    out: v.out,
    json: v.json ?? false,
    progress: !v.json && !v['no-progress'] && stdoutIsTTY,
    checkGradients: v['check-gradients'] ?? false,
  };
}

function checkTestFile(v: Values): void {
  if (v['test-file'] !== undefined && !existsSync(v['test-file'])) {
    throw new UsageError(`--test-file: no such file "${v['test-file']}"`);
  }
  if (v['test-file'] !== undefined && v['test-fraction'] !== undefined) {
    throw new UsageError('--test-fraction and --test-file exclude each other: the test file is the test set');
  }
}

function applyArgs(command: string, v: Values): ApplyArgs {
  for (const [flag, value] of Object.entries(v)) {
    if (value !== undefined && !APPLY_FLAGS.includes(flag)) {
      throw new UsageError(`--${flag} applies to train, not to ${command}`);
    }
  }
  if (v.model === undefined) throw new UsageError(`${command} needs --model FILE (a model saved by train --out)`);
  if (!existsSync(v.model)) throw new UsageError(`--model: no such file "${v.model}"`);
  if (v.dataset === undefined)
    throw new UsageError(
      `${command} needs --dataset FILE.csv, the rows to ${command === 'predict' ? 'predict' : 'score'}`,
    );
  if (!existsSync(v.dataset)) throw new UsageError(`--dataset: no such file "${v.dataset}"`);
  if (command === 'evaluate' && v.out !== undefined) throw new UsageError('--out applies to predict, not to evaluate');
  if (v.json && v.out !== undefined)
    throw new UsageError('--json and --out exclude each other: --json prints, --out writes CSV');
  const activations = optional(v.activations, (s) => list('--activations', s, ACTIVATIONS));
  const loss = optional(v.loss, (s) => oneOf('--loss', s, LOSSES));
  if ((activations === undefined) !== (loss === undefined)) {
    throw new UsageError('--activations and --loss go together: they describe a model file without webgrad metadata');
  }
  return {
    model: v.model,
    dataset: v.dataset,
    labelColumns: optional(v['label-column'], columns),
    activations,
    loss,
    json: v.json ?? false,
    out: v.out,
  };
}
/** parseArgs' messages name the flag but read like internals; say what was expected instead. */
function explainParseError(error: Error): string {
  const code = (error as Error & { code?: string }).code;
  const flag = /'(-[^' ]*)/.exec(error.message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) {
    const name = flag.replace(/^-+/, '').split('=')[0];
    const near = Object.keys(OPTIONS).find((o) => o.startsWith(name.slice(0, 3)) && name.length > 2);
    return `unknown option ${flag}${near ? ` (did you mean --${near}?)` : ''}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) {
    if (/argument missing/.test(error.message)) return `${flag} expects a value, got none`;
    if (/ambiguous/.test(error.message)) {
      return `${flag} expects a value, got another option; a value that starts with a dash goes as ${flag}=VALUE`;
    }
    return `${flag} takes no value`;
  }
  return error.message;
}
