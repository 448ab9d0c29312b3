import { readRows } from './csv.js';

/**
 * A CSV file as a table of text cells, before any column is given a meaning: the separator (comma, semicolon or
 * tab) and the header are detected unless given, every row is checked to have the header's width, and each row
 * keeps the line it starts on for messages. See tabular.ts for reading columns as numbers and labels.
 */

/** A CSV file's cells as text. */
export interface Table {
  /** Column names: the header's, or `col<i>` (0-based) for a file without one. */
  names: string[];
  header: boolean;
  separator: string;
  /** With a semicolon or tab separator, a comma in a number is its decimal point ("3,5" is 3.5). */
  decimalComma: boolean;
  /** Rows of cells, the header excluded. */
  rows: string[][];
  /** 1-based line on which each row starts. */
  lines: number[];
}

/** Options for {@link readTable}. */
export interface TableOptions {
  /** ',' ';' or '\t'. Default: the one of these that the first line holds most of, outside quotes. */
  separator?: string;
  /**
   * Whether the first row names the columns. Default: detected; it does when one of its cells is text in a
   * column whose next rows hold numbers, or when all of its cells are text that the column never holds again.
   */
  header?: boolean;
}

const SEPARATORS = [',', ';', '\t'];

/** Cells that stand for a missing value (compared without case): empty, NA, N/A, NaN, null, None, ?. */
const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '?']);

/** Whether a cell stands for a missing value. */
export function isMissing(cell: string): boolean {
  return MISSING.has(cell.trim().toLowerCase());
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DECIMAL_COMMA = /^[+-]?(?:\d+,?\d*|,\d+)(?:[eE][+-]?\d+)?$/;

/** A cell's number, or NaN when it is not a finite number in decimal (a comma as the point when asked). */
export function parseNumber(cell: string, decimalComma = false): number {
  const text = cell.trim();
  if (DECIMAL.test(text)) {
    const value = Number(text);
    return Number.isFinite(value) ? value : Number.NaN;
  }
  if (decimalComma && DECIMAL_COMMA.test(text)) {
    const value = Number(text.replace(',', '.'));
    return Number.isFinite(value) ? value : Number.NaN;
  }
  return Number.NaN;
}

/** Shows a cell in a message, quoted and cut to a readable length. */
export function showCell(cell: string): string {
  const text = JSON.stringify(cell);
  return text.length > 40 ? `${text.slice(0, 37)}..."` : text;
}

/**
 * Reads CSV text into a table of cells. Throws a RangeError for an empty file, a separator that is not one of
 * ',', ';' and '\t', or a row whose number of cells differs from the first row's (naming its line), and a
 * SyntaxError for a quote that is never closed.
 */
export function readTable(text: string, options: TableOptions = {}): Table {
  if (typeof text !== 'string') throw new TypeError(`CSV: expected the file's text as a string, got ${typeof text}`);
  const separator = options.separator ?? detectSeparator(text);
  if (!SEPARATORS.includes(separator)) {
    throw new RangeError(`CSV separator must be one of ",", ";" and "\\t", got ${JSON.stringify(separator)}`);
  }
  const all = readRows(text, separator);
  if (all.length === 0) throw new RangeError('CSV has no rows');
  const width = all[0].fields.length;
  for (const row of all) {
    if (row.fields.length !== width) {
      const sep = separator === '\t' ? 'tab' : JSON.stringify(separator);
      throw new RangeError(
        `CSV line ${row.line}: expected ${width} cells (as on line ${all[0].line}), found ${row.fields.length}, ` +
          `separated by ${sep}`,
      );
    }
  }
  const decimalComma = separator !== ',';
  const header =
    options.header ??
    looksLikeHeader(
      all.map((r) => r.fields),
      decimalComma,
    );
  const body = header ? all.slice(1) : all;
  return {
    names: header ? all[0].fields : all[0].fields.map((_, c) => `col${c}`),
    header,
    separator,
    decimalComma,
    rows: body.map((r) => r.fields),
    lines: body.map((r) => r.line),
  };
}

/** The separator the first line holds most of outside quotes; a comma when it holds none. */
export function detectSeparator(text: string): string {
  const counts = new Map(SEPARATORS.map((s) => [s, 0]));
  let quoted = false;
  let seen = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) {
      if (seen) break;
    } else if (!quoted && counts.has(c)) counts.set(c, counts.get(c)! + 1);
    if (c !== '\n' && c !== '\r' && c.trim() !== '') seen = true;
  }
  let best = ',';
  for (const [s, n] of counts) if (n > counts.get(best)!) best = s;
  return best;
}

/**
 * Whether the first of `rows` names the columns: one of its cells is text (neither a number nor a missing
 * value) in a column whose next rows hold only numbers and missing values, or all of its cells are text that
 * never appears again in their columns (a header over text columns).
 */
function looksLikeHeader(rows: string[][], decimalComma: boolean): boolean {
  if (rows.length < 2) return rows[0].some((cell) => isText(cell, decimalComma));
  const next = rows.slice(1, 51);
  const numericBelow = (c: number) => next.every((r) => isMissing(r[c]) || !isText(r[c], decimalComma));
  const first = rows[0];
  if (first.some((cell, c) => isText(cell, decimalComma) && numericBelow(c))) return true;
  return first.every((cell, c) => isText(cell, decimalComma) && next.every((r) => r[c] !== cell));
}

function isText(cell: string, decimalComma: boolean): boolean {
  return !isMissing(cell) && Number.isNaN(parseNumber(cell, decimalComma));
}

/**
 * The index of a column given by header name or by 0-based index (negative counts from the end). Throws a
 * RangeError that lists the columns when there is no such column.
 */
export function columnIndex(table: Table, column: string | number): number {
  const { names } = table;
  if (typeof column === 'string') {
    const index = names.indexOf(column);
    if (index >= 0) return index;
    const list = names.length > 20 ? `${names.slice(0, 20).join(', ')}, ...` : names.join(', ');
    const hint = table.header ? '' : ' (the file has no header: give an index)';
    throw new RangeError(`CSV has no column ${JSON.stringify(column)}${hint}; columns: ${list}`);
  }
  const index = column < 0 ? names.length + column : column;
  if (!Number.isInteger(column) || index < 0 || index >= names.length) {
    throw new RangeError(`CSV column ${column} is outside the ${names.length} columns (0 to ${names.length - 1})`);
  }
  return index;
}

/** Names a column in a message: its header name and 1-based position, or just the position. */
export function describeColumn(table: Table, c: number): string {
  return table.header ? `column ${c + 1} (${JSON.stringify(table.names[c])})` : `column ${c + 1}`;
}
