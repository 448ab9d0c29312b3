import { Random } from '../core/random.js';
import type { Impute, Preprocessing, Task } from '../io/preprocessing.js';
import { columnIndex, describeColumn, isMissing, parseNumber, showCell, type Table } from './table.js';

/**
 * A table's columns given a meaning: features read as numbers (NaN where a cell is missing), the label column
 * read as classes or the label columns as real-valued targets, the task chosen from the label column when not
 * given. Pure CPU code; preprocess.ts computes and applies the statistics.
 */

/** Options for {@link readTabular}. */
export interface TabularOptions {
  /** Label columns by header name or 0-based index (negative from the end). Default: the last column. */
  labelColumns?: (string | number)[];
  /** Default: chosen from the label column, see {@link chooseTask}. Several label columns mean regression. */
  task?: Task;
  /** Fill missing feature cells with the training rows' mean or median; without it they are an error. */
  impute?: Impute;
}

/** A table's features and labels, row by row. */
export interface TabularData {
  task: Task;
  /** Why the task was chosen, for the user: "given", or what the label column holds. */
  reason: string;
  features: string[];
  labels: string[];
  n: number;
  /** Features [n, features.length] row-major, NaN where a cell was missing. */
  x: Float64Array;
  /** Classification: each row's label as written (trimmed). */
  classLabels?: string[];
  /** Regression: targets [n, labels.length] row-major. */
  targets?: Float64Array;
  /** 1-based line of each row in its file, for messages. */
  lines: number[];
  /** Rows of the table left out because a label cell was missing (0 when none was). */
  droppedRows: number;
}

/** Integer labels with at most this many distinct values (and few per row) are taken as classes. */
export const MAX_AUTO_CLASSES = 20;

/**
 * Classification when the label cells are text, or integers with few distinct values (at most
 * MAX_AUTO_CLASSES, and at most a fifth of the rows unless there are two); regression when they are numbers
 * with a fraction, or integers with many distinct values. Missing cells are left out. Returns the task and why.
 */
export function chooseTask(cells: string[], decimalComma = false): { task: Task; reason: string } {
  const present = cells.map((c) => c.trim()).filter((c) => !isMissing(c));
  const values = present.map((c) => parseNumber(c, decimalComma));
  const distinct = new Set(present).size;
  const text = present.find((_, i) => Number.isNaN(values[i]));
  if (text !== undefined) {
    return { task: 'classification', reason: `it holds text (${showCell(text)}): ${distinct} classes` };
  }
  const fraction = values.find((v) => !Number.isInteger(v));
  if (fraction !== undefined) return { task: 'regression', reason: `it holds numbers with a fraction (${fraction})` };
  const numbers = new Set(values).size;
  const most = Math.max(2, Math.min(MAX_AUTO_CLASSES, Math.floor(present.length / 5)));
  if (numbers <= most) return { task: 'classification', reason: `it holds ${numbers} distinct integers` };
  return {
    task: 'regression',
    reason: `it holds ${numbers} distinct integers, more than ${most} classes would make; --task classification to override`,
  };
}

/**
 * Reads a table's features and labels. Rows whose label cell (any of them, for several label columns) is
 * missing are left out and counted in `droppedRows`; a table with no labelled row left is a RangeError, as is
 * an unknown or repeated label column. Throws a TypeError naming the line, the column and the cell for a
 * feature cell that is not a number, a missing feature cell without `impute`, or a regression target that is
 * not a number.
 */
export function readTabular(table: Table, options: TabularOptions = {}): TabularData {
  const labelCols = (options.labelColumns ?? [-1]).map((c) => columnIndex(table, c));
  if (labelCols.length === 0) throw new RangeError('CSV: expected at least one label column, got none');
  if (new Set(labelCols).size !== labelCols.length) {
    throw new RangeError(`CSV: a label column is given twice: ${labelCols.map((c) => table.names[c]).join(', ')}`);
  }
  const featureCols = table.names.map((_, c) => c).filter((c) => !labelCols.includes(c));
  if (featureCols.length === 0) throw new RangeError('CSV: every column is a label column; no features are left');
  if (table.rows.length === 0) throw new RangeError('CSV has a header but no rows');
  const { labelled, droppedRows } = dropUnlabelled(table, labelCols);
  table = labelled;
  const chosen = options.task
    ? { task: options.task, reason: 'given' }
    : labelCols.length > 1
      ? { task: 'regression' as const, reason: `${labelCols.length} label columns` }
      : chooseTask(
          table.rows.map((r) => r[labelCols[0]]),
          table.decimalComma,
        );
  if (chosen.task === 'classification' && labelCols.length > 1) {
    throw new RangeError(`CSV: classification takes one label column, got ${labelCols.length}`);
  }
  const data = readColumns(table, featureCols, labelCols, chosen.task, options.impute !== undefined);
  return { ...chosen, ...data, droppedRows };
}

/**
 * The rows of `table` that have every label cell of `labelCols`, and how many did not. A row without its
 * label can be neither trained on nor scored, but the rest of the file is still good. Throws a RangeError when
 * no row is left.
 */
export function dropUnlabelled(table: Table, labelCols: number[]): { labelled: Table; droppedRows: number } {
  const keep = table.rows.map((row) => labelCols.every((c) => !isMissing(row[c])));
  const droppedRows = keep.filter((k) => !k).length;
  if (droppedRows === 0) return { labelled: table, droppedRows };
  if (droppedRows === table.rows.length) {
    const columns = labelCols.map((c) => describeColumn(table, c)).join(', ');
    throw new RangeError(`CSV: the label (${columns}) is missing on all ${droppedRows} rows; no labelled row is left`);
  }
  const labelled = {
    ...table,
    rows: table.rows.filter((_, r) => keep[r]),
    lines: table.lines.filter((_, r) => keep[r]),
  };
  return { labelled, droppedRows };
}

/**
 * The table's `featureCols` as features and `labelCols` (none: an unlabelled table) as labels of `task`:
 * everything of TabularData but the task, its reason and the dropped rows. Missing feature cells are NaN when
 * `allowMissing`; every label cell must be present (see dropUnlabelled).
 */
export function readColumns(
  table: Table,
  featureCols: number[],
  labelCols: number[],
  task: Task,
  allowMissing: boolean,
): Omit<TabularData, 'task' | 'reason' | 'droppedRows'> {
  const data: Omit<TabularData, 'task' | 'reason' | 'droppedRows'> = {
    features: featureCols.map((c) => table.names[c]),
    labels: labelCols.map((c) => table.names[c]),
    n: table.rows.length,
    x: readNumbers(table, featureCols, allowMissing, 'feature'),
    lines: table.lines,
  };
  if (labelCols.length === 0) return data;
  if (task === 'classification') data.classLabels = table.rows.map((row) => row[labelCols[0]].trim());
  else data.targets = readNumbers(table, labelCols, false, 'target');
  return data;
}

/**
 * The cells of `columns` as numbers [rows, columns.length]; a missing cell is NaN when `allowMissing`, else a
 * TypeError, as is a cell that is not a number.
 */
export function readNumbers(table: Table, columns: number[], allowMissing: boolean, kind: string): Float64Array {
  const k = columns.length;
  const out = new Float64Array(table.rows.length * k);
  table.rows.forEach((row, r) => {
    columns.forEach((c, j) => {
      const cell = row[c];
      const value = parseNumber(cell, table.decimalComma);
      if (!Number.isNaN(value)) {
        out[r * k + j] = value;
        return;
      }
      const where = `CSV line ${table.lines[r]}, ${describeColumn(table, c)}`;
      if (!isMissing(cell)) throw new TypeError(`${where}: ${showCell(cell)} is not a number (a ${kind} must be one)`);
      if (!allowMissing) {
        const fix = kind === 'feature' ? '; fill missing cells with --impute mean|median' : '; every row needs one';
        throw new TypeError(`${where}: the ${kind} is missing (${showCell(cell)})${fix}`);
      }
      out[r * k + j] = Number.NaN;
    });
  });
  return out;
}

/**
 * The distinct class labels in a fixed order: numerically when all are numbers (so 3, 5, 7 become classes 0, 1,
 * 2 and "1.0" is the class 1), else by text. Numbers are named by their shortest form.
 */
export function classNames(labels: string[], decimalComma = false): string[] {
  const values = labels.map((l) => parseNumber(l, decimalComma));
  if (values.every((v) => !Number.isNaN(v))) return [...new Set(values)].sort((a, b) => a - b).map(String);
  return [...new Set(labels)].sort();
}

/** The rows at `indices`, in that order. */
export function selectRows(data: TabularData, indices: ArrayLike<number>): TabularData {
  const m = indices.length;
  const d = data.features.length;
  const k = data.labels.length;
  const x = new Float64Array(m * d);
  const targets = data.targets ? new Float64Array(m * k) : undefined;
  const classLabels = data.classLabels ? new Array<string>(m) : undefined;
  const lines = new Array<number>(m);
  for (let i = 0; i < m; i++) {
    const r = indices[i];
    x.set(data.x.subarray(r * d, (r + 1) * d), i * d);
    if (targets) targets.set(data.targets!.subarray(r * k, (r + 1) * k), i * k);
    if (classLabels) classLabels[i] = data.classLabels![r];
    lines[i] = data.lines[r];
  }
  return { ...data, n: m, x, targets, classLabels, lines };
}

/**
 * Shuffles the rows with `seed` and puts the first round(n · fraction) in `test`, the rest in `train`, as
 * splitDataset does for datasets.
 */
export function splitTabular(data: TabularData, fraction: number, seed = 0): { train: TabularData; test: TabularData } {
  const order = new Random(seed).permutation(data.n);
  const nTest = Math.round(data.n * fraction);
  return { train: selectRows(data, order.subarray(nTest)), test: selectRows(data, order.subarray(0, nTest)) };
}

/** Preprocessing's fields that {@link readTabular} needs to read another file (a test file, new rows) alike. */
export function optionsFor(p: Preprocessing): TabularOptions {
  return { labelColumns: p.labels, task: p.task, impute: p.impute };
}
