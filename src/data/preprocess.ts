import { featureColumns, type Impute, type OneHotColumn, type Preprocessing } from '../io/preprocessing.js';
import { oneHotInputs, rawInputs } from './categorical.js';
import { classNames, dropUnlabelled, readColumns, type TabularData } from './tabular.js';
import { parseNumber, showCell, type Table } from './table.js';

/**
 * Statistics from training rows and their use: text columns one-hot encoded (categorical.ts), missing feature
 * cells filled with the column's mean or median (a text column's most frequent category), numeric features
 * and regression targets standardised to mean 0 and deviation 1, class labels numbered. The same
 * Preprocessing (saved with the model) turns any later rows into inputs and outputs into predictions.
 */

/** Mean and standard deviation of column j of [n, k] values, NaN cells left out; std 1 for a constant column. */
function columnStats(values: Float64Array, n: number, k: number, j: number): { mean: number; std: number } {
  let sum = 0;
  let count = 0;
  for (let r = 0; r < n; r++) {
    const v = values[r * k + j];
    if (!Number.isNaN(v)) {
      sum += v;
      count++;
    }
  }
  const mean = count > 0 ? sum / count : 0;
  let sq = 0;
  for (let r = 0; r < n; r++) {
    const v = values[r * k + j];
    if (!Number.isNaN(v)) sq += (v - mean) ** 2;
  }
  const std = count > 0 ? Math.sqrt(sq / count) : 0;
  // A constant column (or one the float32 inputs cannot tell apart) is only centred.
  return { mean, std: std > 1e-12 * Math.max(1, Math.abs(mean)) ? std : 1 };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Each feature's fill value: the mean or median of its present cells (0 for a column with none). */
function fillValues(data: TabularData, impute: Impute): number[] {
  const d = data.features.length;
  return data.features.map((_, j) => {
    const present: number[] = [];
    for (let r = 0; r < data.n; r++) {
      const v = data.x[r * d + j];
      if (!Number.isNaN(v)) present.push(v);
    }
    return impute === 'median' ? median(present) : present.reduce((a, b) => a + b, 0) / Math.max(1, present.length);
  });
}

/**
 * The preprocessing of training rows `train`: each text column's categories (one indicator input each, left
 * as 0 or 1), fill values when `impute` is given (a text column's most frequent category), the numeric
 * features' statistics (after filling), and the classes (of `allLabels`, every label the file holds, so that
 * rows held out for testing have a class too) or the targets' statistics. Throws a RangeError for a text
 * column without a category in the training rows.
 */
export function fitPreprocessing(
  train: TabularData,
  options: { impute?: Impute; allLabels?: string[]; decimalComma?: boolean } = {},
): Preprocessing {
  const p: Preprocessing = { task: train.task, ...fitInputs(train, options.impute), labels: [...train.labels] };
  if (train.task === 'classification') {
    p.classes = classNames(options.allLabels ?? train.classLabels ?? [], options.decimalComma);
  } else {
    const k = train.labels.length;
    const t = train.labels.map((_, j) => columnStats(train.targets!, train.n, k, j));
    p.targetMean = t.map((s) => s.mean);
    p.targetStd = t.map((s) => s.std);
  }
  return p;
}

/** The input side of fitPreprocessing: names, one-hot columns, statistics and fill values, input by input. */
function fitInputs(
  train: TabularData,
  impute?: Impute,
): Pick<Preprocessing, 'features' | 'oneHot' | 'mean' | 'std' | 'impute' | 'fill'> {
  const d = train.features.length;
  const fill = impute ? fillValues(train, impute) : undefined;
  const x = fill ? filled(train.x, d, fill) : train.x;
  const out = { features: [] as string[], mean: [] as number[], std: [] as number[], fill: [] as number[] };
  const oneHot: OneHotColumn[] = [];
  train.features.forEach((name, j) => {
    const cells = train.text?.[j];
    if (cells) {
      const encoded = oneHotInputs(name, cells, fill !== undefined);
      oneHot.push({ column: name, start: out.features.length, categories: encoded.categories });
      out.features.push(...encoded.features);
      out.mean.push(...encoded.mean);
      out.std.push(...encoded.std);
      out.fill.push(...encoded.fill);
      return;
    }
    const s = columnStats(x, train.n, d, j);
    out.features.push(name);
    out.mean.push(s.mean);
    out.std.push(s.std);
    if (fill) out.fill.push(fill[j]);
  });
  const { features, mean, std } = out;
  return {
    features,
    ...(oneHot.length > 0 ? { oneHot } : {}),
    mean,
    std,
    ...(fill ? { impute, fill: out.fill } : {}),
  };
}

function filled(x: Float64Array, d: number, fill: number[]): Float64Array {
  return x.map((v, i) => (Number.isNaN(v) ? fill[i % d] : v));
}

/**
 * The model's inputs for `data`'s rows: text columns one-hot encoded (a category the model does not know is
 * all zeros), missing cells filled, then (value − mean) / std, as float32 [n, inputs]. `data` holds the
 * model's feature columns in its order (readForModel, or readTabular of the training file). A missing cell
 * without fill values is a TypeError naming its line and column; see rawInputs in categorical.ts for the rest.
 */
export function inputsOf(p: Preprocessing, data: TabularData): Float32Array {
  const d = p.features.length;
  const raw = rawInputs(p, data);
  const out = new Float32Array(data.n * d);
  for (let i = 0; i < out.length; i++) {
    let v = raw[i];
    if (Number.isNaN(v)) {
      if (!p.fill) {
        const line = data.lines[Math.floor(i / d)];
        throw new TypeError(
          `CSV line ${line}, column ${JSON.stringify(p.features[i % d])}: the feature is missing, and the model ` +
            'has no fill values (train with --impute mean|median)',
        );
      }
      v = p.fill[i % d];
    }
    out[i] = (v - p.mean[i % d]) / p.std[i % d];
  }
  return out;
}

/** Finds a label among the classes: as written, else as a number in its shortest form ("3.0" is class "3"). */
export function classIndex(classes: readonly string[]): (label: string) => number | undefined {
  const index = new Map(classes.map((c, i) => [c, i]));
  return (label) => {
    const exact = index.get(label);
    if (exact !== undefined) return exact;
    const value = parseNumber(label);
    return Number.isNaN(value) ? undefined : index.get(String(value));
  };
}

/**
 * The training targets for `data`'s rows: class indices (Uint32Array [n]) for classification, standardised
 * targets (Float32Array [n, k]) for regression. A label that is not one of the classes is a RangeError naming
 * its line.
 */
export function targetsOf(p: Preprocessing, data: TabularData): Uint32Array | Float32Array {
  if (p.task === 'classification') {
    const classes = p.classes!;
    const find = classIndex(classes);
    return Uint32Array.from(data.classLabels!, (label, r) => {
      const i = find(label);
      if (i === undefined) {
        const list = classes.length > 10 ? `${classes.slice(0, 10).join(', ')}, ...` : classes.join(', ');
        throw new RangeError(
          `CSV line ${data.lines[r]}: the label ${showCell(label)} is not one of the model's classes (${list})`,
        );
      }
      return i;
    });
  }
  const k = p.labels.length;
  return Float32Array.from(data.targets!, (v, i) => (v - p.targetMean![i % k]) / p.targetStd![i % k]);
}

/** Regression outputs [n, k] back in the targets' units: out·std + mean. */
export function targetValues(p: Preprocessing, out: Float32Array): Float64Array {
  const k = p.labels.length;
  return Float64Array.from(out, (v, i) => v * p.targetStd![i % k] + p.targetMean![i % k]);
}

/** The index of each row's largest value in [n, k] outputs. */
export function argmaxRows(out: ArrayLike<number>, k: number): Uint32Array {
  const n = Math.floor(out.length / k);
  const best = new Uint32Array(n);
  for (let r = 0; r < n; r++) {
    for (let j = 1; j < k; j++) if (out[r * k + j] > out[r * k + best[r]]) best[r] = j;
  }
  return best;
}

/**
 * The columns of `table` that a model with preprocessing `p` reads (see featureColumns: a one-hot column once),
 * and the label columns when the table has them all: by name when the table has a header; by position when it
 * has none (the training file's layout, or the features alone). Throws a RangeError naming the missing feature
 * columns.
 */
export function modelColumns(p: Preprocessing, table: Table): { features: number[]; labels: number[] | null } {
  const names = featureColumns(p).map((c) => c.name);
  const d = names.length;
  if (!table.header && table.names.length === d) return { features: table.names.map((_, c) => c), labels: null };
  const find = (name: string) => table.names.indexOf(name);
  const features = names.map(find);
  const missing = names.filter((_, j) => features[j] < 0);
  if (missing.length > 0) {
    const shown = missing.slice(0, 8).map((m) => JSON.stringify(m));
    const layout = table.header ? 'has no column' : `has ${table.names.length} columns and no header, so no column`;
    throw new RangeError(
      `CSV ${layout} for the model's feature${missing.length > 1 ? 's' : ''} ${shown.join(', ')}` +
        `${missing.length > 8 ? ', ...' : ''} (the model reads ${d} feature columns: ${names.slice(0, 8).join(', ')}` +
        `${d > 8 ? ', ...' : ''})`,
    );
  }
  const labels = p.labels.map(find);
  return { features, labels: labels.every((c) => c >= 0) ? labels : null };
}

/**
 * Reads a table for a model with preprocessing `p`: its feature columns (see modelColumns; the one-hot columns
 * as text, whatever they hold), and with `withLabels` its label columns when it has them all (else the result
 * has no labels). With labels, rows whose label is missing are left out (counted in `droppedRows`); without,
 * every row is read. Missing feature cells are NaN (or '') when the model has fill values, else a TypeError
 * naming the cell, as is a cell that is not a number in a numeric column.
 */
export function readForModel(p: Preprocessing, table: Table, withLabels = true): TabularData {
  const columns = featureColumns(p);
  const found = modelColumns(p, table);
  const features = found.features;
  const labels = withLabels ? found.labels : null;
  const { labelled, droppedRows } = labels ? dropUnlabelled(table, labels) : { labelled: table, droppedRows: 0 };
  const data = readColumns(labelled, {
    features,
    labels: labels ?? [],
    task: p.task,
    allowMissing: p.fill !== undefined,
    text: new Set(features.filter((_, j) => columns[j].categories)),
    why: 'the model reads this column as numbers',
  });
  // The model's names, whatever the file calls its columns (a file without a header: col<i>).
  return {
    ...data,
    task: p.task,
    reason: "the model's",
    features: columns.map((c) => c.name),
    labels: labels ? [...p.labels] : [],
    droppedRows,
  };
}

/** Predictions for a table's rows, in the table's terms. */
export interface TablePredictions {
  /** Classification: each row's most probable class, as the table writes it. */
  classes?: string[];
  /** Classification: [n, classes] the model's probabilities (for cross_entropy; its outputs for other losses). */
  probabilities?: Float32Array;
  /** Regression: [n, labels] the predicted values in the targets' units. */
  values?: Float64Array;
}

/** Turns a model's outputs [n, out] for preprocessed rows into predictions (see TablePredictions). */
export function predictionsOf(p: Preprocessing, out: Float32Array): TablePredictions {
  if (p.task === 'regression') return { values: targetValues(p, out) };
  const classes = p.classes!;
  const best = argmaxRows(out, classes.length);
  return { classes: Array.from(best, (i) => classes[i]), probabilities: out };
}
