import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ACTIVATIONS, type Activation, LOSSES, type Loss, type OptimizerOptions } from '../api.js';

/** A command-line mistake: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {}

/** Names accepted by --dataset besides a CSV file path. */
export const DATASETS = ['mnist', 'spiral', 'moons', 'circles', 'xor'] as const;
export type DatasetName = (typeof DATASETS)[number];

export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
/** Schedules that need no parameters beyond the optimizer's learning rate and a warmup. */
export const SCHEDULES = ['constant', 'cosine', 'linear'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

/** What `webgrad train` was asked for; undefined fields fall back to the dataset's defaults. */
export interface TrainArgs {
  dataset: string;
  labelColumn?: string | number;
  samples?: number;
  testFraction: number;
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
}

export type Command = { kind: 'help' } | { kind: 'version' } | { kind: 'train'; args: TrainArgs };

export const HELP = `Usage: webgrad train [options]

Trains a multilayer perceptron on the GPU through WebGPU (SwiftShader, a software
renderer, where there is no GPU), prints progress per epoch and the accuracy on a
held-out test set. Every option has a default that suits the dataset.

Data
  --dataset NAME|FILE    mnist (default), spiral, moons, circles, xor, or a CSV
                         file of numeric features and a label column (features
                         are standardised with the training rows' statistics)
  --label-column COL     CSV label column: header name or 0-based index
                         (negative counts from the end; default: the last)
  --samples N            points to generate for the 2-D sets (default 2000 for
                         spiral, 1000 otherwise); training digits for mnist
                         (default: all 7,996); not for CSV files
  --test-fraction F      share held out for the final test, 0 < F < 1
                         (default 0.2; mnist has a fixed 2,004-digit test set).
                         A tenth of the rest is used for validation.

Model
  --sizes LIST           layer widths, e.g. 784,128,10 or just the hidden ones,
                         128 or 64,64 (the input and output sizes come from the
                         data). Default: 784,128,10 for mnist, 2,64,64,64,2 for
                         spiral, 2,32,32,2 for the other 2-D sets, in,64,classes
                         for CSV
  --activations LIST     one per layer, or one per hidden layer (the output layer
                         then gets identity), or one name for every hidden layer:
                         ${ACTIVATIONS.slice(0, 5).join(', ')},
                         ${ACTIVATIONS.slice(5).join(', ')} (default relu)
  --loss NAME            ${LOSSES.join(', ')}
                         (default cross_entropy; the other two train on one-hot
                         targets)

Training
  --optimizer NAME       ${OPTIMIZERS.join(', ')} (default adam)
  --lr X                 learning rate (default 0.001 for mnist and CSV, 0.02
                         for spiral, 0.01 for the other 2-D sets; 0.1 with sgd)
  --momentum X           sgd momentum (default 0.9)
  --weight-decay X       L2 penalty (sgd, adam) or decoupled decay (adamw)
                         (default 0)
  --schedule NAME        ${SCHEDULES.join(', ')} learning-rate schedule
                         (default cosine)
  --warmup N             linear warmup steps before the schedule (default 0)
  --batch-size N         rows per step, 1 and up; batches larger than one
                         dispatch holds are split on the GPU (default 64 for
                         mnist and spiral, 32 otherwise)
  --epochs N             passes over the training data (default 5 for mnist,
                         10 for spiral, 8 for the other 2-D sets, 20 for CSV)
  --seed N               seed for the data, initial weights and shuffling
                         (default 0)

Output
  --out FILE             save the trained model as safetensors
  --json                 print one JSON object per line instead of text: per
                         epoch {epoch, loss, accuracy, valLoss, valAccuracy,
                         samplesPerSec}, then the held-out result {testLoss,
                         testAccuracy, testSamples, seconds, samplesPerSec,
                         aborted}
  --no-progress          plain lines instead of progress bars (the default when
                         stdout is not a terminal)
  -h, --help             show this help
  -v, --version          show the version

Examples
  webgrad train
  webgrad train --dataset spiral --batch-size 256 --epochs 30
  webgrad train --dataset iris.csv --label-column species --sizes 16 --out iris.safetensors

Ctrl-C stops after the current step, still reports the test accuracy and saves
--out; a second Ctrl-C quits at once.

Exit status: 0 trained, 1 failed (no WebGPU adapter, bad data), 2 bad options,
130 stopped by Ctrl-C.
`;

const OPTIONS = {
  dataset: { type: 'string' },
  'label-column': { type: 'string' },
  samples: { type: 'string' },
  'test-fraction': { type: 'string' },
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
  'no-progress': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

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
  if (positionals.length === 0) throw new UsageError('expected a command: train');
  if (positionals[0] !== 'train') throw new UsageError(`unknown command "${positionals[0]}"; expected: train`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}" after train`);

  const dataset = v.dataset ?? 'mnist';
  const isCsv = !(DATASETS as readonly string[]).includes(dataset);
  if (isCsv && !existsSync(dataset)) {
    throw new UsageError(
      `--dataset: expected one of ${DATASETS.join(', ')} or a CSV file, got "${dataset}" (no such file)`,
    );
  }
  if (v['label-column'] !== undefined && !isCsv) {
    throw new UsageError(`--label-column applies to CSV files only, but --dataset is ${dataset}`);
  }
  if (v.samples !== undefined && isCsv) {
    throw new UsageError('--samples applies to the built-in datasets only; a CSV file trains on all its rows');
  }
  const testFraction = v['test-fraction'] === undefined ? 0.2 : number('--test-fraction', v['test-fraction']);
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new UsageError(`--test-fraction: expected a number between 0 and 1 (exclusive), got ${v['test-fraction']}`);
  }
  return {
    kind: 'train',
    args: {
      dataset,
      labelColumn: v['label-column'] === undefined ? undefined : column(v['label-column']),
      samples: optional(v.samples, (s) => integer('--samples', s, 1)),
      testFraction,
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
    },
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

function optional<T>(raw: string | undefined, parse: (raw: string) => T): T | undefined {
  return raw === undefined ? undefined : parse(raw);
}

function number(flag: string, raw: string): number {
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value)) throw new UsageError(`${flag}: expected a number, got "${raw}"`);
  return value;
}

function positive(flag: string, raw: string): number {
  const value = number(flag, raw);
  if (!(value > 0)) throw new UsageError(`${flag}: expected a number > 0, got ${raw}`);
  return value;
}

function nonNegative(flag: string, raw: string): number {
  const value = number(flag, raw);
  if (!(value >= 0)) throw new UsageError(`${flag}: expected a number >= 0, got ${raw}`);
  return value;
}

function fraction(flag: string, raw: string): number {
  const value = number(flag, raw);
  if (!(value >= 0 && value < 1)) throw new UsageError(`${flag}: expected a number in [0, 1), got ${raw}`);
  return value;
}

function integer(flag: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!/^\s*\+?\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${flag}: expected an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new UsageError(`${flag}: expected one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function list<T extends string>(flag: string, raw: string, allowed: readonly T[]): T[] {
  const items = raw.split(',').map((s) => s.trim());
  return items.map((item, i) => {
    if (!(allowed as readonly string[]).includes(item)) {
      const where = items.length > 1 ? ` (entry ${i + 1})` : '';
      throw new UsageError(`${flag}: expected names from ${allowed.join(', ')}, got "${item}"${where}`);
    }
    return item as T;
  });
}

function sizes(raw: string): number[] {
  const items = raw.split(',').map((s) => s.trim());
  return items.map((item) => {
    if (!/^\d+$/.test(item) || Number(item) < 1) {
      throw new UsageError(`--sizes: expected comma-separated integers >= 1 (e.g. 784,128,10), got "${raw}"`);
    }
    return Number(item);
  });
}

function column(raw: string): string | number {
  return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
}
