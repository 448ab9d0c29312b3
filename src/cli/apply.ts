import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { accuracy, regressionMetrics } from '../data/metrics.js';
import { argmaxRows, inputsOf, predictionsOf, readForModel, targetsOf } from '../data/preprocess.js';
import { columnIndex, readTable, type Table } from '../data/table.js';
import type { TabularData } from '../data/tabular.js';
import { createEngine, type Mlp, oneHot, type Preprocessing } from '../node.js';
import type { ApplyArgs } from './options.js';
import { DataError, fromFile, leftOut, readText } from './tables.js';

/**
 * `webgrad predict` and `webgrad evaluate`: a saved model applied to the rows of a CSV file with the
 * preprocessing saved in it (columns by header name, missing cells filled, standardisation, class labels or
 * target units). A file without webgrad's metadata (a PyTorch state_dict, loaded with --activations and
 * --loss) reads its columns by position, unscaled, and names classes by index.
 */

/** A model and the rows of a table read for it. */
interface Applied {
  model: Mlp;
  p: Preprocessing;
  data: TabularData;
  x: Float32Array;
}

/** Prints (or with --out, writes as CSV) one prediction per row. */
export async function predictCommand(args: ApplyArgs): Promise<number> {
  return withModel(args, false, async ({ model, p, data, x }) => {
    const predictions = predictionsOf(p, await model.predict(x));
    if (args.json) {
      const lines = data.lines.map((line, r) => JSON.stringify({ line, ...rowPrediction(p, predictions, r) }));
      process.stdout.write(lines.map((l) => `${l}\n`).join(''));
      return 0;
    }
    const csv = predictionsCsv(p, predictions, data.n);
    if (args.out === undefined) {
      process.stdout.write(csv);
      return 0;
    }
    await writeFile(args.out, csv);
    process.stderr.write(`webgrad: ${data.n} predictions of ${p.labels.join(', ')} written to ${args.out}\n`);
    return 0;
  });
}

/** Scores the model on a file that has the label column(s): the metrics train reports. */
export async function evaluateCommand(args: ApplyArgs): Promise<number> {
  return withModel(args, true, async ({ model, p, data, x }) => {
    const y = targetsOf(p, data);
    const targets = y instanceof Uint32Array && model.loss !== 'cross_entropy' ? oneHot(y, p.classes!.length) : y;
    const { loss } = await model.evaluate(x, targets);
    const out = await model.predict(x);
    const result: Record<string, number> = { testLoss: loss };
    if (p.task === 'classification') {
      result.testAccuracy = accuracy(argmaxRows(out, p.classes!.length), y);
    } else {
      const s = regressionMetrics(predictionsOf(p, out).values!, data.targets!, p.labels.length);
      Object.assign(result, { testRmse: s.rmse, testMae: s.mae, testR2: s.r2 });
    }
    result.testSamples = data.n;
    if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(`${evaluationLine(result)} on ${data.n} samples of ${basename(args.dataset)}\n`);
    return 0;
  });
}

function evaluationLine(r: Record<string, number>): string {
  const loss = `(loss ${r.testLoss.toFixed(4)})`;
  if (r.testAccuracy !== undefined) return `accuracy ${(r.testAccuracy * 100).toFixed(2)}% ${loss}`;
  const u = (v: number) => String(Number(v.toPrecision(4)));
  return `RMSE ${u(r.testRmse)}, MAE ${u(r.testMae)}, R² ${r.testR2.toFixed(3)} ${loss}`;
}

/** Loads the model and reads the table for it, runs `use`, and frees the GPU whatever happens. */
async function withModel(
  args: ApplyArgs,
  labelled: boolean,
  use: (applied: Applied) => Promise<number>,
): Promise<number> {
  const bytes = await readFile(args.model).catch((error: Error) => {
    throw new DataError(`cannot read ${args.model}: ${error.message}`);
  });
  const text = await readText(args.dataset);
  const table = fromFile(args.dataset, () => readTable(text));
  const engine = await createEngine();
  try {
    const architecture = args.activations && args.loss ? { activations: args.activations, loss: args.loss } : undefined;
    const model = await inputError(args.model, engine.load(new Uint8Array(bytes), architecture));
    const p = model.preprocessing ?? plainPreprocessing(model, table, args, labelled);
    const data = fromFile(args.dataset, () => readForModel(p, table, labelled));
    if (labelled && data.labels.length === 0) {
      const names = p.labels.map((l) => JSON.stringify(l)).join(', ');
      throw new DataError(
        `${args.dataset}: has no label column ${names} to score on (its columns: ${table.names.join(', ')})`,
      );
    }
    if (data.droppedRows > 0)
      process.stderr.write(`webgrad: ${basename(args.dataset)}: ${leftOut(data.droppedRows)}\n`);
    const x = fromFile(args.dataset, () => inputsOf(p, data));
    return await inputError(args.dataset, use({ model, p, data, x }));
  } finally {
    engine.destroy();
  }
}

/**
 * The preprocessing of a model saved without one (a PyTorch state_dict): its inputs are the table's columns as
 * they are, by position, less the label columns (--label-column, else the last ones when the table has more
 * columns than the model has inputs); cross_entropy outputs are classes named by index, others values.
 */
function plainPreprocessing(model: Mlp, table: Table, args: ApplyArgs, labelled: boolean): Preprocessing {
  const inputs = model.sizes[0];
  const outputs = model.sizes[model.sizes.length - 1];
  const classification = model.loss === 'cross_entropy';
  const width = classification ? 1 : outputs;
  const given = args.labelColumns?.map((c) => fromFile(args.dataset, () => columnIndex(table, c)));
  const all = table.names.map((_, c) => c);
  const labels = given ?? (table.names.length > inputs || labelled ? all.slice(inputs, inputs + width) : []);
  const features = all.filter((c) => !labels.includes(c));
  if (features.length !== inputs) {
    throw new DataError(
      `${args.dataset}: the model takes ${inputs} inputs, but the file has ${features.length} feature columns` +
        `${labels.length > 0 ? ` besides the label column(s) ${labels.map((c) => table.names[c]).join(', ')}` : ''}; ` +
        'name the label columns with --label-column',
    );
  }
  const names = (cols: number[]) => cols.map((c) => table.names[c]);
  const labelNames = labels.length > 0 ? names(labels) : Array.from({ length: width }, (_, j) => `output${j}`);
  const zeros = (n: number) => new Array<number>(n).fill(0);
  const ones = (n: number) => new Array<number>(n).fill(1);
  // Read the features in place of whatever the table calls them, so readForModel finds them by name.
  const p: Preprocessing = {
    task: classification ? 'classification' : 'regression',
    features: names(features),
    mean: zeros(inputs),
    std: ones(inputs),
    labels: labelNames,
  };
  if (classification) p.classes = Array.from({ length: outputs }, (_, i) => String(i));
  else Object.assign(p, { targetMean: zeros(outputs), targetStd: ones(outputs) });
  return p;
}

/** Awaits `work`; the errors bad input raises become a DataError that starts with the file's name. */
async function inputError<T>(path: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) throw new DataError(`${path}: ${error.message}`);
    throw error;
  }
}

/** One row's prediction for --json: the class and its probabilities, or the value(s). */
function rowPrediction(p: Preprocessing, predictions: ReturnType<typeof predictionsOf>, r: number): object {
  if (p.task === 'classification') {
    const k = p.classes!.length;
    const probabilities = Object.fromEntries(p.classes!.map((c, j) => [c, predictions.probabilities![r * k + j]]));
    return { prediction: predictions.classes![r], probabilities };
  }
  const k = p.labels.length;
  const values = Array.from(predictions.values!.subarray(r * k, (r + 1) * k));
  return { prediction: k === 1 ? values[0] : Object.fromEntries(p.labels.map((l, j) => [l, values[j]])) };
}

/** The predictions as CSV: the label column(s), then for classes one probability column per class. */
function predictionsCsv(p: Preprocessing, predictions: ReturnType<typeof predictionsOf>, n: number): string {
  const cell = (text: string) => (/[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
  const num = (v: number) => String(Number(v.toPrecision(7)));
  const rows: string[] = [];
  if (p.task === 'classification') {
    const k = p.classes!.length;
    rows.push([p.labels[0], ...p.classes!.map((c) => `p_${c}`)].map(cell).join(','));
    for (let r = 0; r < n; r++) {
      const probs = Array.from(predictions.probabilities!.subarray(r * k, (r + 1) * k), num);
      rows.push([cell(predictions.classes![r]), ...probs].join(','));
    }
  } else {
    const k = p.labels.length;
    rows.push(p.labels.map(cell).join(','));
    for (let r = 0; r < n; r++) rows.push(Array.from(predictions.values!.subarray(r * k, (r + 1) * k), num).join(','));
  }
  return `${rows.join('\n')}\n`;
}
