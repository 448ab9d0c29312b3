import uPlot from 'uplot';
import { argmaxRows, type RegressionMetrics, regressionMetrics, targetValues } from '../../src/index.js';
import { AXIS, VAL_COLOR } from './charts.js';
import type { DemoData } from './data.js';
import { pct } from './log.js';

const $ = (id: string) => document.getElementById(id) as HTMLElement;

/**
 * What a model makes of a table's validation rows. Regression: a scatter plot of predicted against true values
 * of the first target, with the line y = x, and the validation RMSE and R² in the targets' units (averaged over
 * the targets as `webgrad train` reports them). Classification: each class by its name, with how many of its
 * validation rows the model gets right.
 */
export class TableView {
  private plot: uPlot | null = null;
  private data: DemoData | null = null;
  /** The scatter plot's range, the same on both axes so that y = x is the diagonal. */
  private range: uPlot.Range.MinMax = [0, 1];
  private readonly figure = $('view-table');
  private readonly scatter = $('scatter');
  private readonly classes = $('class-table');

  constructor() {
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(this.scatter);
  }

  /** Shows the view for a run on a table, and hides it for other data; no predictions yet. */
  reset(d: DemoData | null): void {
    this.plot?.destroy();
    this.plot = null;
    this.data = d?.table ? d : null;
    this.figure.hidden = !this.data;
    if (!this.data) return;
    const p = this.data.table!.preprocessing;
    const regression = p.task === 'regression';
    const n = this.data.val.n;
    this.figure.dataset.rows = String(n);
    $('table-title').textContent = regression ? `Predicted against true ${p.labels[0]}` : 'Validation rows by class';
    $('table-count').textContent = `${n.toLocaleString('en-US')} validation rows`;
    this.scatter.hidden = !regression;
    this.classes.hidden = regression;
    $('table-note').textContent = regression ? regressionNote(p.labels) : '';
    if (regression) {
      this.plot = scatterPlot(this.scatter, this.size(), p.labels[0], () => this.range);
      this.drawScatter(null);
    } else this.classTable(null);
  }

  /** Shows the model's outputs for the validation rows; returns the regression scores (null: classification). */
  show(out: Float32Array): RegressionMetrics | null {
    const run = this.data?.table;
    if (!run) return null;
    const p = run.preprocessing;
    if (p.task === 'classification') {
      this.classTable(argmaxRows(out, p.classes!.length));
      return null;
    }
    const values = targetValues(p, out);
    this.drawScatter(values);
    return regressionMetrics(values, run.valTargets!, p.labels.length);
  }

  private size(): { width: number; height: number } {
    const width = Math.max(200, this.scatter.clientWidth);
    return { width, height: Math.min(width, 420) };
  }

  /** Plots the first target of each validation row: true across, predicted up (none yet: the line alone). */
  private drawScatter(predicted: Float64Array | null): void {
    const run = this.data!.table!;
    const truth = run.valTargets!;
    const k = run.preprocessing.labels.length;
    const n = truth.length / k;
    // uPlot draws series over a shared, ascending x: the rows in order of their true value.
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => truth[a * k] - truth[b * k]);
    const xs = order.map((i) => truth[i * k]);
    const ys = order.map((i) => (predicted ? predicted[i * k] : null));
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of [...xs, ...ys]) {
      if (v === null || !Number.isFinite(v)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const pad = 0.05 * (hi - lo || Math.abs(hi) || 1);
    this.range = [lo - pad, hi + pad];
    this.plot?.setData([xs, ys, xs]);
    this.scatter.dataset.points = String(predicted ? n : 0);
  }

  /** Each class's validation rows and the share the model gets right (none yet: dashes). */
  private classTable(best: Uint32Array | null): void {
    const run = this.data!.table!;
    const names = run.preprocessing.classes!;
    const y = this.data!.val.y as Uint32Array;
    const rows = names.map(() => ({ n: 0, right: 0 }));
    for (let i = 0; i < y.length; i++) {
      rows[y[i]].n++;
      if (best && best[i] === y[i]) rows[y[i]].right++;
    }
    const table = document.createElement('table');
    table
      .createTHead()
      .insertRow()
      .append(...['Class', 'Rows', 'Right'].map((t) => cell('th', t)));
    const body = table.createTBody();
    const right = (r: { n: number; right: number }) => (best && r.n > 0 ? pct(r.right / r.n) : '–');
    names.forEach((name, c) => {
      // Class names come from the file: written as text, never as markup.
      body.insertRow().append(cell('td', name), cell('td', String(rows[c].n)), cell('td', right(rows[c])));
    });
    const all = rows.reduce((a, r) => ({ n: a.n + r.n, right: a.right + r.right }), { n: 0, right: 0 });
    table
      .createTFoot()
      .insertRow()
      .append(cell('td', 'All'), cell('td', String(all.n)), cell('td', right(all)));
    this.classes.replaceChildren(table);
    this.classes.dataset.accuracy = best ? String(all.right / all.n) : '';
  }
}

function cell(tag: 'td' | 'th', text: string): HTMLElement {
  const el = document.createElement(tag);
  el.textContent = text;
  return el;
}

function regressionNote(labels: readonly string[]): string {
  const each =
    'Each point is a validation row: its true value across, the prediction up; on the dashed line they agree.';
  if (labels.length === 1) return each;
  return (
    `${each} The plot shows the first of ${labels.length} targets; RMSE is over all their values and R² their ` +
    'average, as webgrad train reports them.'
  );
}

/** A scatter plot in the charts' style: points for the predictions, a dashed y = x. */
function scatterPlot(
  el: HTMLElement,
  size: { width: number; height: number },
  label: string,
  range: () => uPlot.Range.MinMax,
): uPlot {
  const axisLabel = { labelFont: '12px system-ui, sans-serif', labelSize: 20 };
  return new uPlot(
    {
      ...size,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false, range }, y: { range } },
      axes: [
        { ...AXIS, ...axisLabel, label: `true ${label}` },
        { ...AXIS, ...axisLabel, label: 'predicted', size: 56 },
      ],
      series: [
        {},
        {
          label: 'predicted',
          stroke: VAL_COLOR,
          paths: () => null,
          points: { show: true, size: 5, stroke: VAL_COLOR, fill: 'rgba(249, 115, 22, 0.35)' },
        },
        { label: 'y = x', stroke: '#94a3b8', width: 1, dash: [5, 5], points: { show: false } },
      ],
    },
    [[], [], []],
    el,
  );
}
