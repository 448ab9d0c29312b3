import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { fitPreprocessing, inputsOf, readForModel, targetsOf } from '../data/preprocess.js';
import { readTable } from '../data/table.js';
import { readTabular, splitTabular, type TabularData } from '../data/tabular.js';
import type { Impute, Preprocessing, Task } from '../api.js';

/**
 * A CSV file made ready to train on: read, its task chosen, split into training, validation and test rows (or
 * tested on a second file), preprocessed with the training rows' statistics.
 */

/** A data file that cannot be used: reported without a stack, exit code 1. */
export class DataError extends Error {}

/** What `webgrad train` asks of a CSV file. */
export interface TableRequest {
  labelColumns?: (string | number)[];
  task?: Task;
  impute?: Impute;
  testFraction: number;
  testFile?: string;
  validationFraction: number;
  seed: number;
}

/** A dataset of preprocessed rows with, for regression, its targets in their own units (for scores). */
export type Part = Dataset & { targets?: Float64Array };

/** A CSV file's training, validation and test rows, its preprocessing and why its task was chosen. */
export interface PreparedTable {
  name: string;
  train: Part;
  val?: Part;
  test: Part;
  preprocessing: Preprocessing;
  reason: string;
  /** Lines for the user about rows that were left out. */
  notes: string[];
}

/** Reads a file's text, or throws a DataError naming it. */
export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new DataError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

/** The notice for rows left out because their label was missing. */
export function leftOut(rows: number): string {
  return rows === 1 ? '1 row without a label was left out' : `${rows} rows without a label were left out`;
}

/** Runs `read`, turning the errors bad data raises into a DataError that starts with the file's name. */
export function fromFile<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) {
      throw new DataError(`${path}: ${error.message}`);
    }
    throw error;
  }
}

/** Reads, splits and preprocesses a CSV file for training; see TableRequest. */
export async function prepareTable(path: string, request: TableRequest): Promise<PreparedTable> {
  const text = await readText(path);
  const testText = request.testFile === undefined ? undefined : await readText(request.testFile);
  const data = fromFile(path, () =>
    readTabular(readTable(text), { labelColumns: request.labelColumns, task: request.task, impute: request.impute }),
  );
  const { trainAll, test: split } = splitRows(path, data, request);
  const { train, val } = validationSplit(trainAll, request.validationFraction, request.seed + 1);
  const preprocessing = fromFile(path, () =>
    fitPreprocessing(train, {
      impute: request.impute,
      allLabels: data.classLabels,
    }),
  );
  if (preprocessing.classes && preprocessing.classes.length < 2) {
    throw new DataError(`${path}: the label column holds one class only (${preprocessing.classes[0]})`);
  }
  const notes = data.droppedRows > 0 ? [leftOut(data.droppedRows)] : [];
  let testRows = split;
  if (testText !== undefined) {
    const testPath = request.testFile!;
    testRows = fromFile(testPath, () => readForModel(preprocessing, readTable(testText)));
    if (testRows.labels.length === 0) {
      throw new DataError(
        `${testPath}: has no column ${preprocessing.labels.map((l) => JSON.stringify(l)).join(', ')} to test on`,
      );
    }
    if (testRows.droppedRows > 0) notes.push(`${basename(testPath)}: ${leftOut(testRows.droppedRows)}`);
  }
  const part = (rows: TabularData, file: string) => fromFile(file, () => toPart(preprocessing, rows));
  return {
    name: basename(path),
    train: part(train, path),
    val: val ? part(val, path) : undefined,
    test: part(testRows!, request.testFile ?? path),
    preprocessing,
    reason: data.reason,
    notes,
  };
}

/** The file's rows split into training and test rows (all of them training rows when there is a test file). */
function splitRows(
  path: string,
  data: TabularData,
  request: TableRequest,
): { trainAll: TabularData; test?: TabularData } {
  if (request.testFile !== undefined) return { trainAll: data };
  const { train, test } = splitTabular(data, request.testFraction, request.seed);
  if (train.n < 2 || test.n < 1) throw new DataError(`${path}: ${data.n} rows leave too few to train and test on`);
  return { trainAll: train, test };
}

/** A share of the training rows held out for validation; none when that leaves no rows on either side. */
function validationSplit(rows: TabularData, fraction: number, seed: number): { train: TabularData; val?: TabularData } {
  const { train, test } = splitTabular(rows, fraction, seed);
  return test.n === 0 || train.n === 0 ? { train: rows } : { train, val: test };
}

/** Preprocessed inputs and training targets of some rows, with regression targets kept in their units. */
function toPart(p: Preprocessing, rows: TabularData): Part {
  const x = inputsOf(p, rows);
  const y = targetsOf(p, rows);
  const part: Part = { x, y, n: rows.n, inputs: p.features.length };
  if (p.classes) part.classes = p.classes.length;
  if (rows.targets) part.targets = rows.targets;
  return part;
}
