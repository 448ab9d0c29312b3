import { Random } from '../core/random.js';
import type { Impute, Preprocessing, Task } from '../io/preprocessing.js';
import { isTextColumn, readTextColumn } from './categorical.js';
import { columnIndex, describeColumn, isMissing, parseNumber, showCell, type Table } from './table.js';

/**
 * A table's columns given a meaning: features read as numbers (NaN where a cell is missing) or, for a column
 * of text, as text cells (see categorical.ts), the label column read as classes or the label columns as
 * real-valued targets, the task chosen from the label column when not given. Pure CPU code; preprocess.ts
 * computes and applies the statistics.
 */

/** Options for {@link readTabular}. */
export interface TabularOptions {
  /** Label columns by header name or 0-based index (negative from the end). Default: the last column. */
  labelColumns?: (string | number)[];
  /** Default: chosen from the label column, see {@link chooseTask}. Several label columns mean regression. */
  task?: Task;
  /**
   * Fill missing feature cells with the training rows' mean or median (in a text column: its most frequent
   * category); without it they are an error.
   */
  impute?: Impute;
}

/** A table's features and labels, row by row. */
export interface TabularData {
  task: Task;
  /** Why the task was chosen, for the user: "given", or what the label column holds. */
  reason: string;
  /** The feature columns' names. */
  features: string[];
  labels: string[];
  n: number;
  /** Features [n, features.length] row-major, NaN where a cell was missing and in text columns. */
  x: Float64Array;
  /**
   * The text feature columns' cells, which the preprocessing one-hot encodes: for feature j, `text[j]` holds
   * each row's cell (trimmed, '' where missing) when the column is text, and is null when it is numeric.
   * Absent when every feature column is numeric. See {@link readTabular} for which columns are text.
   */
  text?: (string[] | null)[];
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
 * Reads a table's features and labels. A feature column is text when fewer than half of its present cells are
 * numbers (its cells go to `text`, for one-hot encoding); otherwise it is numeric, and a cell that is not a
 * number is an error, so a numeric column with a few stray words is refused rather than turned into
 * categories. Rows whose label cell (any of them, for several label columns) is missing are left out and
 * counted in `droppedRows`; a table with no labelled row left is a RangeError, as is an unknown or repeated
 * label column. Throws a TypeError naming the line, the column and the cell for a numeric feature cell that is
 * not a number, a missing feature cell without `impute`, or a regression target that is not a number.
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
  const text = new Set(featureCols.filter((c) => isTextColumn(columnCells(table, c), table.decimalComma)));
  const data = readColumns(table, {
    features: featureCols,
    labels: labelCols,
    task: chosen.task,
    allowMissing: options.impute !== undefined,
    text,
    why: "at least half of the column's cells are numbers, so every one must be",
  });
  return { ...chosen, ...data, droppedRows };
}

function columnCells(table: Table, c: number): string[] {
  return table.rows.map((row) => row[c]);
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

/** Which columns readColumns reads, and how. */
export interface ColumnRequest {
  /** Feature columns by index, in the order of TabularData.features. */
  features: number[];
  /** Label columns by index; none for an unlabelled table. */
  labels: number[];
  task: Task;
  /** Missing feature cells are NaN (or '' in a text column) instead of an error. */
  allowMissing: boolean;
  /** The feature columns read as text. */
  text: ReadonlySet<number>;
  /** Why a numeric feature column's cells must be numbers, for the message about one that is not. */
  why: string;
}

/**
 * The table's columns as `request` says: everything of TabularData but the task, its reason and the dropped
 * rows. Every label cell must be present (see dropUnlabelled).
 */
export function readColumns(
  table: Table,
  request: ColumnRequest,
): Omit<TabularData, 'task' | 'reason' | 'droppedRows'> {
  const { features, labels, allowMissing, text } = request;
  const fix = '; fill missing cells with --impute mean|median';
  const data: Omit<TabularData, 'task' | 'reason' | 'droppedRows'> = {
    features: features.map((c) => table.names[c]),
    labels: labels.map((c) => table.names[c]),
    n: table.rows.length,
    x: readNumbers(table, features, { kind: 'feature', allowMissing, why: request.why, fix, skip: text }),
    lines: table.lines,
  };
  if (features.some((c) => text.has(c))) {
    data.text = features.map((c) => (text.has(c) ? readTextColumn(table, c, allowMissing, fix) : null));
  }
  if (labels.length === 0) return data;
  if (request.task === 'classification') data.classLabels = table.rows.map((row) => row[labels[0]].trim());
  else
    data.targets = readNumbers(table, labels, {
      kind: 'target',
      allowMissing: false,
      why: 'a target must be one',
      fix: '',
    });
  return data;
}

/** How readNumbers reads cells. */
interface NumberRequest {
  kind: 'feature' | 'target';
  /** A missing cell is NaN instead of an error. */
  allowMissing: boolean;
  /** Why a cell must be a number, for the message about one that is not. */
  why: string;
  /** Ends the message about a missing cell. */
  fix: string;
  /** Columns read elsewhere (as text): NaN here. */
  skip?: ReadonlySet<number>;
}

/**
 * The cells of `columns` as numbers [rows, columns.length]; a missing cell is NaN when `allowMissing`, else a
 * TypeError, as is a cell that is not a number.
 */
function readNumbers(table: Table, columns: number[], request: NumberRequest): Float64Array {
  const k = columns.length;
  const out = new Float64Array(table.rows.length * k);
  table.rows.forEach((row, r) => {
    columns.forEach((c, j) => {
      const cell = row[c];
      const value = request.skip?.has(c) ? Number.NaN : parseNumber(cell, table.decimalComma);
      if (!Number.isNaN(value) || request.skip?.has(c)) {
        out[r * k + j] = value;
        return;
      }
      const where = `CSV line ${table.lines[r]}, ${describeColumn(table, c)}`;
      if (!isMissing(cell)) throw new TypeError(`${where}: ${showCell(cell)} is not a number (${request.why})`);
      if (!request.allowMissing) {
        throw new TypeError(`${where}: the ${request.kind} is missing (${showCell(cell)})${request.fix}`);
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
  const text = data.text?.map((cells) => (cells ? Array.from(indices, (r) => cells[r]) : null));
  const classLabels = data.classLabels ? new Array<string>(m) : undefined;
  const lines = new Array<number>(m);
  for (let i = 0; i < m; i++) {
    const r = indices[i];
    x.set(data.x.subarray(r * d, (r + 1) * d), i * d);
    if (targets) targets.set(data.targets!.subarray(r * k, (r + 1) * k), i * k);
    if (classLabels) classLabels[i] = data.classLabels![r];
    lines[i] = data.lines[r];
  }
  return { ...data, n: m, x, text, targets, classLabels, lines };
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
