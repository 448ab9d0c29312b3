import { type FeatureColumn, featureColumns, MAX_NAME, type Preprocessing } from '../io/preprocessing.js';
import { describeColumn, isMissing, parseNumber, showCell, type Table } from './table.js';

/**
 * Text feature columns: which columns are text, their cells, and their one-hot encoding, as scikit-learn's
 * OneHotEncoder(handle_unknown='ignore') does it: one indicator per category the training rows hold, sorted
 * by text, and all zeros for a category they never held. Indicators are not standardised.
 */

/**
 * Whether a feature column is read as text categories: fewer than half of its present (not missing) cells are
 * numbers. A column of mostly numbers with a few text cells is a numeric column with bad cells, not
 * categories, and reading it as numbers names the first bad cell.
 */
export function isTextColumn(cells: readonly string[], decimalComma = false): boolean {
  let present = 0;
  let numbers = 0;
  for (const cell of cells) {
    if (isMissing(cell)) continue;
    present++;
    if (!Number.isNaN(parseNumber(cell, decimalComma))) numbers++;
  }
  return present > 0 && 2 * numbers < present;
}

/**
 * The cells of column `c` as text, trimmed, '' where missing. A missing cell is a TypeError naming it unless
 * `allowMissing`; `fix` ends that message.
 */
export function readTextColumn(table: Table, c: number, allowMissing: boolean, fix: string): string[] {
  return table.rows.map((row, r) => {
    const cell = row[c];
    if (!isMissing(cell)) return cell.trim();
    if (!allowMissing) {
      const where = `CSV line ${table.lines[r]}, ${describeColumn(table, c)}`;
      throw new TypeError(`${where}: the feature is missing (${showCell(cell)})${fix}`);
    }
    return '';
  });
}

/** The inputs a text column's training cells make: one indicator per category, left as 0 or 1. */
export interface OneHotInputs {
  categories: string[];
  /** `column=category` for each category. */
  features: string[];
  mean: number[];
  std: number[];
  /** With `withFill`: 1 for the most frequent category (the first in order among equals), 0 for the others. */
  fill: number[];
}

/**
 * The one-hot inputs of the text column `name` from its training cells; see OneHotInputs. Throws a RangeError
 * when no cell is present, or when a category is longer than a model file accepts.
 */
export function oneHotInputs(name: string, cells: readonly string[], withFill: boolean): OneHotInputs {
  const counts = new Map<string, number>();
  for (const cell of cells) if (!isMissing(cell)) counts.set(cell, (counts.get(cell) ?? 0) + 1);
  const categories = [...counts.keys()].sort();
  if (categories.length === 0) {
    throw new RangeError(
      `CSV column ${JSON.stringify(name)} holds text, but every one of its training cells is missing`,
    );
  }
  const long = categories.find((c) => c.length > MAX_NAME);
  if (long !== undefined) {
    // A model file could not hold it; such a cell is free text, which makes no category.
    throw new RangeError(
      `CSV column ${JSON.stringify(name)} holds text, and the category ${showCell(long)} is longer than ` +
        `${MAX_NAME} characters; a column of free text cannot be one-hot encoded`,
    );
  }
  let mode = categories[0];
  for (const c of categories) if (counts.get(c)! > counts.get(mode)!) mode = c;
  return {
    categories,
    features: categories.map((c) => `${name}=${c}`),
    mean: categories.map(() => 0),
    std: categories.map(() => 1),
    fill: withFill ? categories.map((c) => (c === mode ? 1 : 0)) : [],
  };
}

/** The feature part of TabularData, which rawInputs reads (tabular.ts imports this file, not the other way). */
interface FeatureRows {
  features: string[];
  n: number;
  x: Float64Array;
  text?: (string[] | null)[];
  lines: number[];
}

/**
 * The model's inputs for `data`'s rows before filling and standardising: [n, p.features.length], a numeric
 * column's value or NaN where missing, a one-hot column's indicators (NaN in all of them where the cell is
 * missing, all 0 for a category the model does not know). `data` must hold the model's feature columns in its
 * order, as readForModel reads them (or readTabular the training file). Throws a RangeError when it holds
 * another number of columns, a TypeError when a column is text where the model reads numbers or the other way
 * round, or when a text cell is missing and the model has no fill values.
 */
export function rawInputs(p: Preprocessing, data: FeatureRows): Float64Array {
  const columns = featureColumns(p);
  const d = data.features.length;
  if (d !== columns.length) {
    const names = (list: string[]) => (list.length > 8 ? `${list.slice(0, 8).join(', ')}, ...` : list.join(', '));
    throw new RangeError(
      `expected rows of the model's ${columns.length} feature columns (${names(columns.map((c) => c.name))}), ` +
        `got ${d} (${names(data.features)})`,
    );
  }
  if (!p.oneHot && !data.text?.some((cells) => cells)) return data.x;
  const inputs = p.features.length;
  const out = new Float64Array(data.n * inputs);
  columns.forEach((column, j) => {
    const cells = data.text?.[j] ?? null;
    if (column.categories) {
      encodeColumn(out, inputs, column, cells, data, p.fill !== undefined);
      return;
    }
    if (cells)
      throw new TypeError(`column ${JSON.stringify(column.name)} holds text, but the model reads it as numbers`);
    for (let r = 0; r < data.n; r++) out[r * inputs + column.start] = data.x[r * d + j];
  });
  return out;
}

/** Writes a one-hot column's indicators for every row into `out` ([n, inputs]); see rawInputs. */
function encodeColumn(
  out: Float64Array,
  inputs: number,
  column: FeatureColumn,
  cells: readonly string[] | null,
  data: FeatureRows,
  hasFill: boolean,
): void {
  const name = JSON.stringify(column.name);
  if (!cells) {
    throw new TypeError(`column ${name} is one-hot encoded by the model, but the rows hold it as numbers`);
  }
  const categories = column.categories!;
  // A Map, not an object: a category may be called "constructor" or "__proto__".
  const index = new Map(categories.map((c, k) => [c, k]));
  cells.forEach((cell, r) => {
    const at = r * inputs + column.start;
    if (isMissing(cell)) {
      if (!hasFill) {
        throw new TypeError(
          `CSV line ${data.lines[r]}, column ${name}: the feature is missing, and the model has no fill values ` +
            '(train with --impute mean|median)',
        );
      }
      out.fill(Number.NaN, at, at + categories.length);
      return;
    }
    const k = index.get(cell.trim());
    if (k !== undefined) out[at + k] = 1;
  });
}
