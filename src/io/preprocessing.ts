import type { Loss } from '../core/types.js';
import { show } from './safetensors.js';

/**
 * What a model trained on a table does to the table's cells before and after the network: which columns feed
 * it, which text columns are one-hot encoded into which categories, how missing cells are filled, the
 * standardisation statistics, the class labels or the target statistics.
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

/**
 * A text feature column, one-hot encoded: the model's inputs `start` to `start + categories.length − 1` are its
 * indicators, named `column=category` in {@link Preprocessing.features}.
 */
export interface OneHotColumn {
  /** The column's name in the table. */
  column: string;
  /** The index of its first indicator among the model's inputs. */
  start: number;
  /**
   * The categories the training rows hold, sorted by text: indicator i is 1 for a cell that reads
   * categories[i] (trimmed) and 0 otherwise, so a category the training rows never held is all zeros.
   */
  categories: string[];
}

/** A table's preprocessing, as saved with a model; see the file comment. */
export interface Preprocessing {
  task: Task;
  /**
   * The names of the model's inputs, in order: a numeric feature column's name, or `column=category` for each
   * indicator of a one-hot encoded text column (see `oneHot`).
   */
  features: string[];
  /** The text feature columns, one-hot encoded, in input order; absent when every feature column is numeric. */
  oneHot?: OneHotColumn[];
  /**
   * The training rows' mean and standard deviation of each input: the input is (value − mean) / std. An
   * indicator has mean 0 and std 1, so it stays 0 or 1.
   */
  mean: number[];
  std: number[];
  /** How missing feature cells are filled; without it a missing cell is an error. */
  impute?: Impute;
  /**
   * The value (in the column's units) that a missing cell of each input takes; given with `impute`. For a
   * one-hot column: 1 for the training rows' most frequent category and 0 for the others.
   */
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
  'oneHot',
  'mean',
  'std',
  'impute',
  'fill',
  'labels',
  'classes',
  'targetMean',
  'targetStd',
] as const;
/** Longest column, category or class name accepted. */
export const MAX_NAME = 1000;

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
    // Room for an indicator's name: a column's, "=", a category's.
    features: names(get('features'), inputs, `${what}.features`, 2 * MAX_NAME + 1),
    mean: numbers(get('mean'), inputs, `${what}.mean`, false),
    std: numbers(get('std'), inputs, `${what}.std`, true),
    labels: [],
  };
  const oneHot = get('oneHot');
  if (oneHot !== undefined) out.oneHot = checkOneHot(oneHot, out.features, `${what}.oneHot`);
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

function names(value: unknown, length: number, what: string, max = MAX_NAME): string[] {
  return list(value, length, what).map((name, i) => checkName(name, `${what}[${i}]`, max));
}

function checkName(name: unknown, what: string, max = MAX_NAME): string {
  if (typeof name !== 'string') throw new TypeError(`${what} must be a string, got ${show(name)}`);
  if (name.length > max) throw new RangeError(`${what} is longer than ${max} characters`);
  return name;
}

/**
 * Checks the one-hot columns against `features`: each { column, start, categories } with distinct categories,
 * the columns in input order without overlap, every indicator named `column=category` at its input, and no
 * column named twice.
 */
function checkOneHot(value: unknown, features: string[], what: string): OneHotColumn[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > features.length) {
    throw new TypeError(`${what} must be a list of 1 to ${features.length} { column, start, categories }`);
  }
  let next = 0;
  const out = value.map((entry, i) => {
    const column = oneHotColumn(entry, `${what}[${i}]`, next, features.length);
    column.categories.forEach((category, k) => {
      const expected = `${column.column}=${category}`;
      if (features[column.start + k] !== expected) {
        throw new RangeError(
          `${what}[${i}] makes input ${column.start + k} the indicator ${show(expected)}, but the features name it ` +
            show(features[column.start + k]),
        );
      }
    });
    next = column.start + column.categories.length;
    return column;
  });
  const columns = featureColumns({ features, oneHot: out }).map((c) => c.name);
  for (const { column } of out) {
    if (columns.indexOf(column) !== columns.lastIndexOf(column)) {
      throw new RangeError(`${what}: the column ${show(column)} is read twice`);
    }
  }
  return out;
}

/** One entry of oneHot, its first input at `from` or after, its indicators within `inputs`. */
function oneHotColumn(entry: unknown, what: string, from: number, inputs: number): OneHotColumn {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new TypeError(`${what} must be an object { column, start, categories }, got ${show(entry)}`);
  }
  const source = entry as Record<string, unknown>;
  const keys = Object.keys(source);
  if (keys.length !== 3 || !['column', 'start', 'categories'].every((k) => Object.hasOwn(source, k))) {
    throw new TypeError(`${what} must have the keys column, start and categories only, got ${show(keys)}`);
  }
  const column = checkName(source.column, `${what}.column`);
  const start = source.start;
  if (!Number.isSafeInteger(start) || (start as number) < from || (start as number) >= inputs) {
    throw new RangeError(`${what}.start must be an integer from ${from} to ${inputs - 1}, got ${show(start)}`);
  }
  const room = inputs - (start as number);
  const given = source.categories;
  if (!Array.isArray(given) || given.length === 0 || given.length > room) {
    throw new RangeError(`${what}.categories must be a list of 1 to ${room} names, got ${show(given)}`);
  }
  const categories = given.map((c, k) => checkName(c, `${what}.categories[${k}]`));
  if (new Set(categories).size !== categories.length) {
    throw new RangeError(`${what}.categories must be distinct, got ${show(categories)}`);
  }
  return { column, start: start as number, categories };
}

/** A column of the table that feeds the model: its name, its first input and, one-hot encoded, its categories. */
export interface FeatureColumn {
  name: string;
  start: number;
  categories?: string[];
}

/**
 * The table columns a model with (checked) preprocessing `p` reads, in input order: a numeric column for each
 * input outside the one-hot columns, and each one-hot column once.
 */
export function featureColumns(p: Pick<Preprocessing, 'features' | 'oneHot'>): FeatureColumn[] {
  const columns: FeatureColumn[] = [];
  const oneHot = p.oneHot ?? [];
  let k = 0;
  for (let j = 0; j < p.features.length; j++) {
    const encoded = oneHot[k];
    if (encoded && encoded.start === j) {
      columns.push({ name: encoded.column, start: j, categories: encoded.categories });
      j += encoded.categories.length - 1;
      k++;
    } else columns.push({ name: p.features[j], start: j });
  }
  return columns;
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
