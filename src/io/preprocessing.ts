import type { Loss } from '../core/types.js';
import { show } from './safetensors.js';

/**
 * What a model trained on a table does to the table's cells before and after the network: which columns feed
 * it, how missing cells are filled, the standardisation statistics, the class labels or the target statistics.
 * Saved in a model file's metadata (as JSON in metadata.preprocessing) so that every reader of the file (the
 * CLI, the API, the demo) turns rows into inputs and outputs into predictions the same way. Computing it from a
 * table, and applying it, is src/data/tabular.ts; this file holds its shape and its checks.
 *
 * The checks treat the value as untrusted (it may come from a file): only own properties are read, every key
 * must be known, every array must have the length the model's sizes give, and a fresh object is returned.
 */

/** Classification: the label column holds classes. Regression: the label columns hold real-valued targets. */
export type Task = 'classification' | 'regression';
export const TASKS: readonly Task[] = ['classification', 'regression'];

/** How missing feature cells are filled: with the training rows' mean or median of the column. */
export type Impute = 'mean' | 'median';
export const IMPUTES: readonly Impute[] = ['mean', 'median'];

/** A table's preprocessing, as saved with a model; see the file comment. */
export interface Preprocessing {
  task: Task;
  /** The feature columns' names, in the order of the model's inputs. */
  features: string[];
  /** The training rows' mean and standard deviation of each feature: the input is (value − mean) / std. */
  mean: number[];
  std: number[];
  /** How missing feature cells are filled; without it a missing cell is an error. */
  impute?: Impute;
  /** The value (in the column's units) that a missing cell of each feature takes; given with `impute`. */
  fill?: number[];
  /** The label columns' names: one for classification, one per output for regression. */
  labels: string[];
  /** Classification: the label of each output (class index), as the table writes it. */
  classes?: string[];
  /** Regression: the training rows' mean and standard deviation of each target; a prediction is out·std + mean. */
  targetMean?: number[];
  targetStd?: number[];
}

/** The keys a Preprocessing may have, in the order they are written. */
const KEYS = [
  'task',
  'features',
  'mean',
  'std',
  'impute',
  'fill',
  'labels',
  'classes',
  'targetMean',
  'targetStd',
] as const;
/** Longest column or class name accepted. */
const MAX_NAME = 1000;

/** What the checks need of the model: its sizes and loss. */
export interface PreprocessingSpec {
  sizes: readonly number[];
  loss: Loss;
}

/**
 * Checks `value` as the preprocessing of a model with `spec`'s sizes and loss and returns a fresh copy holding
 * only the checked fields. `what` starts the messages ("load: metadata.preprocessing", "preprocessing").
 * Throws a TypeError for a value of the wrong kind and a RangeError for a wrong length or an out-of-range value.
 */
export function checkPreprocessing(value: unknown, spec: PreprocessingSpec, what: string): Preprocessing {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${what} must be an object { task, features, mean, std, labels, ... }, got ${show(value)}`);
  }
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new TypeError(`${what} has the unknown key ${show(key)}; expected keys: ${KEYS.join(', ')}`);
    }
  }
  const get = (key: (typeof KEYS)[number]) => (Object.hasOwn(source, key) ? source[key] : undefined);
  const task = get('task');
  if (!(TASKS as readonly unknown[]).includes(task)) {
    throw new TypeError(`${what}.task must be one of ${TASKS.join(', ')}, got ${show(task)}`);
  }
  const inputs = spec.sizes[0];
  const outputs = spec.sizes[spec.sizes.length - 1];
  const out: Preprocessing = {
    task: task as Task,
    features: names(get('features'), inputs, `${what}.features`),
    mean: numbers(get('mean'), inputs, `${what}.mean`, false),
    std: numbers(get('std'), inputs, `${what}.std`, true),
    labels: [],
  };
  checkImpute(get('impute'), get('fill'), inputs, what, out);
  if (out.task === 'classification') checkClassification(get, outputs, what, out);
  else checkRegression(get, spec, what, out);
  return out;
}

function checkImpute(impute: unknown, fill: unknown, inputs: number, what: string, out: Preprocessing): void {
  if (impute === undefined && fill === undefined) return;
  if (!(IMPUTES as readonly unknown[]).includes(impute)) {
    throw new TypeError(`${what}.impute must be one of ${IMPUTES.join(', ')} (with fill), got ${show(impute)}`);
  }
  out.impute = impute as Impute;
  out.fill = numbers(fill, inputs, `${what}.fill`, false);
}

function checkClassification(
  get: (key: (typeof KEYS)[number]) => unknown,
  outputs: number,
  what: string,
  out: Preprocessing,
): void {
  for (const key of ['targetMean', 'targetStd'] as const) {
    if (get(key) !== undefined)
      throw new TypeError(`${what}.${key} belongs to regression, but the task is classification`);
  }
  out.labels = names(get('labels'), 1, `${what}.labels`);
  const classes = names(get('classes'), outputs, `${what}.classes`);
  if (new Set(classes).size !== classes.length)
    throw new RangeError(`${what}.classes must be distinct, got ${show(classes)}`);
  out.classes = classes;
}

function checkRegression(
  get: (key: (typeof KEYS)[number]) => unknown,
  spec: PreprocessingSpec,
  what: string,
  out: Preprocessing,
): void {
  if (get('classes') !== undefined)
    throw new TypeError(`${what}.classes belongs to classification, but the task is regression`);
  if (spec.loss !== 'mse') {
    throw new TypeError(`${what}.task regression needs the mse loss, but the model's loss is ${spec.loss}`);
  }
  const outputs = spec.sizes[spec.sizes.length - 1];
  out.labels = names(get('labels'), outputs, `${what}.labels`);
  out.targetMean = numbers(get('targetMean'), outputs, `${what}.targetMean`, false);
  out.targetStd = numbers(get('targetStd'), outputs, `${what}.targetStd`, true);
}

function list(value: unknown, length: number, what: string): unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${what} must be a list of ${length} entries, got ${show(value)}`);
  if (value.length !== length) {
    throw new RangeError(`${what} must have ${length} entries (from the model's sizes), got ${value.length}`);
  }
  return value;
}

function names(value: unknown, length: number, what: string): string[] {
  return list(value, length, what).map((name, i) => {
    if (typeof name !== 'string') throw new TypeError(`${what}[${i}] must be a string, got ${show(name)}`);
    if (name.length > MAX_NAME) throw new RangeError(`${what}[${i}] is longer than ${MAX_NAME} characters`);
    return name;
  });
}

function numbers(value: unknown, length: number, what: string, positive: boolean): number[] {
  return list(value, length, what).map((v, i) => {
    if (typeof v !== 'number') throw new TypeError(`${what}[${i}] must be a number, got ${show(v)}`);
    if (!Number.isFinite(v) || (positive && !(v > 0))) {
      throw new RangeError(`${what}[${i}] must be a finite number${positive ? ' > 0' : ''}, got ${show(v)}`);
    }
    return v;
  });
}

/** The preprocessing as the JSON text of metadata.preprocessing, keys in a fixed order. */
export function encodePreprocessing(p: Preprocessing): string {
  const written: Record<string, unknown> = {};
  for (const key of KEYS) if (p[key] !== undefined) written[key] = p[key];
  return JSON.stringify(written);
}

/** Parses and checks metadata.preprocessing (untrusted) for a model with `spec`. */
export function decodePreprocessing(text: string, spec: PreprocessingSpec): Preprocessing {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TypeError(`load: metadata.preprocessing is not valid JSON: ${show(text)}`);
  }
  return checkPreprocessing(parsed, spec, 'load: metadata.preprocessing');
}
