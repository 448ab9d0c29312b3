// The "your own CSV" data source: a file picked or dropped on the page, read with the library's table reader
// and split, preprocessed and scored with the functions `webgrad train --dataset FILE.csv` uses, so that the
// page and the command line treat a file alike (separators, quotes, header, decimal commas, task, statistics).
import { splitTabular } from '../../src/data/tabular.js';
import {
  fitPreprocessing,
  type Impute,
  inputsOf,
  type Preprocessing,
  readTable,
  readTabular,
  type Table,
  type TabularData,
  type TabularOptions,
  type Task,
  targetsOf,
} from '../../src/index.js';
import { decodeModel, encodeModel } from '../../src/io/model-file.js';
import type { DemoData, TableRun } from './data.js';

/** What a run on a table needs beyond its datasets: the file, its preprocessing, the validation targets. */
/**
 * Share of the rows held out for validation. The command line holds out 20% for its final test and a tenth of
 * the rest for validation; the page has no final test, so its validation rows are the 20%.
 */
export const VALIDATION_FRACTION = 0.2;

/** Data that cannot be used, with the reason for the page: shown, not logged as a fault of the page. */
export class DataError extends Error {}

/** No file has been picked yet. */
export class NoTable extends Error {}

/** What the page does when a file arrives or a choice changes. */
export interface CsvEvents {
  /** A file was read (or failed to be): the run must be rebuilt. `fresh`: a new file, not a changed choice. */
  changed(fresh: boolean): void;
  /** A file dropped on the page; the page decides whether it is a table or a model file. */
  dropped(file: File): void;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
let versions = 0;

/** The CSV card: file picker, label columns, task and missing cells, and what the library made of the file. */
export class CsvSource {
  private file: { name: string; table: Table; version: number } | null = null;
  /** Why the last file could not be read, until another is. */
  private readError: string | null = null;
  private readonly input = $<HTMLInputElement>('csv-file');
  private readonly labels = $<HTMLSelectElement>('csv-label');
  private readonly task = $<HTMLSelectElement>('csv-task');
  private readonly impute = $<HTMLSelectElement>('csv-impute');

  constructor(private readonly events: CsvEvents) {
    this.input.addEventListener('change', () => {
      const file = this.input.files?.[0];
      // Cleared, so that picking the same file again (after editing it) reads it again.
      this.input.value = '';
      if (file) void this.read(file);
    });
    for (const el of [this.labels, this.task, this.impute]) el.addEventListener('change', () => events.changed(false));
    document.addEventListener('dragover', (e) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    });
    document.addEventListener('drop', (e) => {
      const file = e.dataTransfer?.files[0];
      if (!file) return;
      e.preventDefault();
      events.dropped(file);
    });
  }

  /** The settings of this card, locked with the page's others while a run trains. */
  controls(): (HTMLInputElement | HTMLSelectElement)[] {
    return [this.input, this.labels, this.task, this.impute];
  }

  /** What the data of a run depends on; a rebuild with the same key keeps the data. */
  key(seed: number): string {
    const labels = [...this.labels.selectedOptions].map((o) => o.value).join(',');
    return `csv:${this.file?.version ?? `none:${this.readError}`}:${labels}:${this.task.value}:${this.impute.value}:${seed}`;
  }

  /** Training rows a file gives (for the default epochs), or 0 without one. */
  trainingRows(): number {
    const n = this.file?.table.rows.length ?? 0;
    return n - Math.round(n * VALIDATION_FRACTION);
  }

  /** Reads a file's text into a table of cells, or says in the card why it cannot. */
  async read(file: File): Promise<void> {
    try {
      const table = readTable(await file.text());
      this.file = { name: file.name, table, version: ++versions };
      this.readError = null;
      this.fillLabels(table);
      $('csv-info').textContent = describeTable(file.name, table);
    } catch (error) {
      this.file = null;
      this.readError = `${file.name}: ${pageWords((error as Error).message)}`;
      this.labels.replaceChildren();
      $('csv-info').textContent = '';
    }
    this.events.changed(true);
  }

  /**
   * The run's training and validation sets: the table read with the chosen columns, task and filling, split
   * (seeded) and preprocessed with the training rows' statistics. Throws NoTable before a file is picked and a
   * DataError, also shown in the card, for a file the library refuses.
   */
  makeData(seed: number): DemoData {
    this.showError(null);
    $('csv-task-note').textContent = '';
    if (!this.file) {
      if (this.readError) throw this.showError(this.readError);
      throw new NoTable('Pick a CSV file (or drop one on the page) to train on it.');
    }
    const { name, table } = this.file;
    try {
      return prepare(name, table, this.options(), seed);
    } catch (error) {
      if (!(error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError)) throw error;
      throw this.showError(`${name}: ${pageWords(error.message)}`);
    }
  }

  /** Says in the card what task the run has and why, with the classes or the targets. */
  describe(run: TableRun): void {
    const p = run.preprocessing;
    const detail = p.classes
      ? `Classes: ${shortList(p.classes)}`
      : `Square loss on ${shortList(p.labels)}, standardised; scored in ${p.labels.length > 1 ? 'their' : 'its'} own units`;
    $('csv-task-note').textContent = `${taskLine(p.task, run.reason)}. ${detail}.`;
  }

  private options(): TabularOptions {
    const labels = [...this.labels.selectedOptions].map((o) => Number(o.value));
    return {
      labelColumns: labels.length > 0 ? labels : [-1],
      task: (this.task.value || undefined) as Task | undefined,
      impute: (this.impute.value || undefined) as Impute | undefined,
    };
  }

  /** The label column choices: every column, the last one chosen (as the command line's default). */
  private fillLabels(table: Table): void {
    const options = table.names.map((name, c) => new Option(name, String(c), false, c === table.names.length - 1));
    this.labels.replaceChildren(...options);
    this.labels.size = Math.min(5, Math.max(2, options.length));
  }

  /** Shows `message` in the card (null clears it) and returns it as a DataError. */
  private showError(message: string | null): DataError {
    const el = $('csv-error');
    el.textContent = message ?? '';
    el.hidden = message === null;
    return new DataError(message ?? '');
  }
}

/** Reads, splits and preprocesses a table as `webgrad train` does (see src/cli/tables.ts). */
function prepare(name: string, table: Table, options: TabularOptions, seed: number): DemoData {
  const data = readTabular(table, options);
  const { train, test: val } = splitTabular(data, VALIDATION_FRACTION, seed);
  if (train.n < 2 || val.n < 1) throw new RangeError(`${data.n} rows leave too few to train and validate on`);
  const p = fitPreprocessing(train, { impute: options.impute, allLabels: data.classLabels });
  if (p.classes && p.classes.length < 2)
    throw new RangeError(`the label column holds one class only (${p.classes[0]})`);
  const part = (rows: TabularData) => ({
    x: inputsOf(p, rows),
    y: targetsOf(p, rows),
    n: rows.n,
    inputs: p.features.length,
    classes: p.classes?.length,
  });
  const run: TableRun = { file: name, preprocessing: p, reason: data.reason, valTargets: val.targets };
  return {
    name: 'csv',
    train: part(train),
    val: part(val),
    inputs: p.features.length,
    classes: p.classes?.length ?? p.labels.length,
    table: run,
  };
}

/** A model file's bytes with a table's preprocessing in its metadata, as `webgrad train --out` writes them. */
export function withPreprocessing(bytes: Uint8Array, p: Preprocessing): Uint8Array {
  const file = decodeModel(bytes);
  return encodeModel(file, file.params, file.optimizer, p);
}

/** "iris.csv: 150 rows × 5 columns, comma-separated, with a header". */
function describeTable(name: string, table: Table): string {
  const sep = table.separator === '\t' ? 'tab' : table.separator === ';' ? 'semicolon' : 'comma';
  const decimal = table.decimalComma ? ', decimal commas' : '';
  const header = table.header ? 'with a header' : 'no header (columns col0, col1, …)';
  return (
    `${name}: ${table.rows.length.toLocaleString('en-US')} rows × ${table.names.length} columns, ` +
    `${sep}-separated${decimal}, ${header}`
  );
}

/** "regression: the label column holds 214 distinct integers, ...", from the library's reason. */
function taskLine(task: Task, reason: string): string {
  if (reason === 'given') return `${task}, as chosen`;
  // The command line's way to override is the Task choice here.
  const why = reason.replace(/; --task \w+ to override$/, '');
  return why.startsWith('it ') ? `${task}: the label column ${why.slice(3)}` : `${task}: ${why}`;
}

/** The library's messages name the command line's flags; the page has settings for them. */
function pageWords(message: string): string {
  return message
    .replace('--impute mean|median', 'the Missing cells setting (mean or median)')
    .replace(/--task (classification|regression)/, 'the Task setting');
}

function shortList(items: readonly string[]): string {
  return items.length > 8 ? `${items.slice(0, 8).join(', ')}, …` : items.join(', ');
}
