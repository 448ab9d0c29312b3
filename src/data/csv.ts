import type { Dataset } from './dataset.js';

/** Options for {@link parseCsv}. */
export interface CsvOptions {
  /** Header name or column index (negative counts from the end) of the class labels. Default: the last column. */
  labelColumn?: string | number;
  /**
   * Whether the first row names the columns. Default: true when `labelColumn` is a name, otherwise detected:
   * the first row is a header when one of its feature fields is not a number.
   */
  header?: boolean;
}

/** A parsed CSV: numeric features, class labels and the names behind both. */
export type CsvDataset = Dataset & {
  /** Original label of each class index. */
  labels: string[];
  /** Name of each feature column (from the header, or `col<i>` with i the column's index in the file). */
  featureNames: string[];
};

/** One row of a CSV file: its fields as text, and where it starts. */
export interface Row {
  fields: string[];
  /** 1-based line on which the row starts. */
  line: number;
}

/**
 * Splits RFC 4180 text into rows of fields separated by `separator` (a comma by default; a semicolon or a tab for
 * other files): quoted fields may hold separators, newlines and "" for a quote. Blank lines are skipped.
 */
export function readRows(text: string, separator = ','): Row[] {
  const rows: Row[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endField = () => {
    fields.push(quoted ? field : field.trim());
    field = '';
    quoted = false;
  };
  const endRow = () => {
    const wasQuoted = quoted;
    endField();
    // A row that is one empty, unquoted field is a blank line.
    if (fields.length > 1 || wasQuoted || fields[0] !== '') rows.push({ fields, line: rowLine });
    fields = [];
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"' && !quoted && field.trim() === '') {
      ({ value: field, end: i, line } = readQuoted(text, i, line, separator));
      quoted = true;
    } else if (c === separator) {
      endField();
      i++;
    } else if (c === '\n' || c === '\r') {
      endRow();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      rowLine = ++line;
    } else if ((c === ' ' || c === '\t') && field.trim() === '') {
      // Leading blanks, kept apart so that a quote after them still opens a quoted field.
      field += c;
      i++;
    } else {
      const end = unquotedEnd(text, i, separator);
      field += text.slice(i, end);
      i = end;
    }
  }
  if (field !== '' || quoted || fields.length > 0) endRow();
  return rows;
}

/**
 * Reads the quoted field whose opening quote is at `open`, on line `line`: returns its value, the index after
 * it and any blanks that follow, and the line reached. Only the separator or a line end may follow the closing
 * quote.
 */
function readQuoted(
  text: string,
  open: number,
  line: number,
  separator: string,
): { value: string; end: number; line: number } {
  let value = '';
  const start = line;
  let i = open + 1;
  for (;;) {
    const close = text.indexOf('"', i);
    if (close < 0) throw new SyntaxError(`CSV line ${start}: quoted field is never closed`);
    const part = text.slice(i, close);
    for (let k = part.indexOf('\n'); k >= 0; k = part.indexOf('\n', k + 1)) line++;
    value += part;
    i = close + 1;
    if (text[i] !== '"') break;
    value += '"';
    i++;
  }
  while (text[i] === ' ' || text[i] === '\t') i++;
  const next = text[i];
  if (i < text.length && next !== separator && next !== '\n' && next !== '\r') {
    throw new SyntaxError(`CSV line ${line}: unexpected ${JSON.stringify(next)} after a closing quote`);
  }
  return { value, end: i, line };
}

/** The index of the separator or line end that ends the unquoted text starting at `from`, else the text's length. */
function unquotedEnd(text: string, from: number, separator: string): number {
  let j = from + 1;
  while (j < text.length && text[j] !== separator && text[j] !== '\n' && text[j] !== '\r') j++;
  return j;
}

function isNumber(field: string): boolean {
  return field !== '' && Number.isFinite(Number(field));
}

/**
 * Parses CSV text into a classification dataset: every column but the label column must hold finite numbers
 * (Float32Array x), and the label column becomes class indices (Uint32Array y). Labels are numbered in order of
 * first appearance, or in numeric order when all of them are integers (so labels 1, 2, 3 become classes 0, 1, 2).
 * Handles quoted fields, CRLF line ends, a byte-order mark and blank lines.
 *
 * Throws a RangeError for rows with the wrong number of fields or an unknown label column, and a TypeError for a
 * feature that is not a number, naming the line and column.
 */
export function parseCsv(text: string, options: CsvOptions = {}): CsvDataset {
  const rows = readRows(text);
  if (rows.length === 0) throw new RangeError('CSV has no rows');
  const width = rows[0].fields.length;
  if (width < 2) throw new RangeError(`CSV line ${rows[0].line}: need a feature column and a label column`);

  const { labelColumn = -1 } = options;
  const header = options.header ?? (typeof labelColumn === 'string' || hasNonNumber(rows[0].fields, labelColumn));
  const names = header ? rows[0].fields : rows[0].fields.map((_, c) => `col${c}`);
  const label = labelIndex(labelColumn, names, header);

  const data = header ? rows.slice(1) : rows;
  const n = data.length;
  const inputs = width - 1;
  const x = new Float32Array(n * inputs);
  const rawLabels: string[] = new Array(n);
  for (let r = 0; r < n; r++) {
    const { fields, line } = data[r];
    if (fields.length !== width) {
      throw new RangeError(`CSV line ${line}: expected ${width} fields, found ${fields.length}`);
    }
    let k = r * inputs;
    for (let c = 0; c < width; c++) {
      if (c === label) continue;
      const field = fields[c];
      if (!isNumber(field)) {
        const column = header ? `column ${c + 1} (${JSON.stringify(names[c])})` : `column ${c + 1}`;
        throw new TypeError(`CSV line ${line}, ${column}: ${JSON.stringify(field)} is not a finite number`);
      }
      x[k++] = Number(field);
    }
    rawLabels[r] = fields[label];
  }

  const { labels, y } = encodeLabels(rawLabels);
  const featureNames = names.filter((_, c) => c !== label);
  return { x, y, n, inputs, classes: labels.length, labels, featureNames };
}

function hasNonNumber(fields: string[], labelColumn: number): boolean {
  const label = labelColumn < 0 ? fields.length + labelColumn : labelColumn;
  return fields.some((field, c) => c !== label && !isNumber(field));
}

function labelIndex(labelColumn: string | number, names: string[], header: boolean): number {
  if (typeof labelColumn === 'string') {
    if (!header) throw new RangeError(`CSV label column ${JSON.stringify(labelColumn)} is a name but header is false`);
    const index = names.indexOf(labelColumn);
    if (index < 0) {
      throw new RangeError(`CSV has no column ${JSON.stringify(labelColumn)}; columns: ${names.join(', ')}`);
    }
    return index;
  }
  const index = labelColumn < 0 ? names.length + labelColumn : labelColumn;
  if (!Number.isInteger(labelColumn) || index < 0 || index >= names.length) {
    throw new RangeError(`CSV label column ${labelColumn} is outside the ${names.length} columns`);
  }
  return index;
}

/** Numbers the distinct labels: numerically when all are integers, else by first appearance. */
function encodeLabels(raw: string[]): { labels: string[]; y: Uint32Array } {
  const numeric = raw.length > 0 && raw.every((label) => /^[+-]?\d+$/.test(label));
  const keys = numeric ? raw.map((label) => String(Number(label))) : raw;
  let labels = [...new Set(keys)];
  if (numeric) labels = labels.sort((a, b) => Number(a) - Number(b));
  const index = new Map(labels.map((label, i) => [label, i]));
  return { labels, y: Uint32Array.from(keys, (key) => index.get(key)!) };
}
