import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Points kept per chart; past this every other training point is dropped, so redraws stay cheap. */
const MAX_POINTS = 3000;

/** Weight of the past in the training curves' moving average (bias-corrected, as TensorBoard's smoothing). */
const SMOOTHING = 0.8;

const TRAIN_COLOR = '#6366f1';
export const VAL_COLOR = '#f97316';

/** The axes' look, shared by every chart on the page. */
export const AXIS: uPlot.Axis = {
  stroke: '#64748b',
  grid: { stroke: '#e2e8f0', width: 1 },
  ticks: { stroke: '#e2e8f0', width: 1 },
  font: '12px system-ui, sans-serif',
};

interface Series {
  x: number[];
  train: (number | null)[];
  val: (number | null)[];
}

/**
 * Training and validation curves for loss and accuracy against epochs. Training points come every step, as a
 * moving average of the batches (and the mean of the steps since the last point once the series is thinned);
 * validation points at the end of every epoch. The epoch axis spans the whole run from the start, and each legend
 * shows the latest values unless the pointer is over its chart (then the values there).
 */
export class Curves {
  private readonly loss: uPlot;
  private readonly accuracy: uPlot;
  private data: { loss: Series; accuracy: Series } = { loss: empty(), accuracy: empty() };
  /** Steps averaged into one training point; doubles each time the series is thinned. */
  private stride = 1;
  private pending = { loss: 0, accuracy: 0, count: 0, x: 0 };
  /** Moving averages of the batch values: small batches make single steps too noisy to read a trend from. */
  private smooth = { loss: 0, accuracy: 0, weight: 0 };
  private dirty = false;
  /** Epochs the run is set to: the x axis spans at least this many. */
  private epochs = 1;

  constructor(lossEl: HTMLElement, accuracyEl: HTMLElement) {
    this.loss = chart(
      lossEl,
      { distr: 3, range: lossRange },
      (v) => (v == null ? '–' : v.toPrecision(3)),
      (t) => String(Number(t.toPrecision(2))),
    );
    this.accuracy = chart(
      accuracyEl,
      { range: [0, 1] },
      (v) => (v == null ? '–' : `${(v * 100).toFixed(1)}%`),
      (t) => `${Math.round(t * 100)}%`,
    );
    const observer = new ResizeObserver(() => this.resize(lossEl, accuracyEl));
    observer.observe(lossEl);
    this.resize(lossEl, accuracyEl);
  }

  /** Adds one step's batch loss and accuracy at fractional epoch x. */
  addStep(x: number, loss: number, accuracy: number): void {
    const m = this.smooth;
    m.loss = SMOOTHING * m.loss + (1 - SMOOTHING) * loss;
    m.accuracy = SMOOTHING * m.accuracy + (1 - SMOOTHING) * accuracy;
    m.weight = SMOOTHING * m.weight + (1 - SMOOTHING);
    const p = this.pending;
    p.loss += m.loss / m.weight;
    p.accuracy += m.accuracy / m.weight;
    p.count++;
    p.x = x;
    if (p.count < this.stride) return;
    this.push(p.x, p.loss / p.count, p.accuracy / p.count, null, null);
    this.pending = { loss: 0, accuracy: 0, count: 0, x: 0 };
  }

  /** Adds the validation result at the end of an epoch (x: steps so far over steps per epoch). */
  addValidation(x: number, loss: number, accuracy: number): void {
    this.push(x, null, null, loss, accuracy);
  }

  /** Empties both charts, their axes set for a run of `epochs` epochs. */
  clear(epochs: number): void {
    this.epochs = Math.max(1, epochs);
    this.data = { loss: empty(), accuracy: empty() };
    this.stride = 1;
    this.pending = { loss: 0, accuracy: 0, count: 0, x: 0 };
    this.smooth = { loss: 0, accuracy: 0, weight: 0 };
    this.dirty = true;
    this.draw();
  }

  /** Redraws if anything changed; call from requestAnimationFrame. */
  draw(): void {
    if (!this.dirty) return;
    this.dirty = false;
    for (const [plot, s] of [
      [this.loss, this.data.loss],
      [this.accuracy, this.data.accuracy],
    ] as const) {
      // The x range is set by hand: uPlot leaves an x scale without data where it was, with the last run's ticks.
      plot.setData([s.x, s.train, s.val], false);
      plot.setScale('x', { min: 0, max: Math.max(this.epochs, s.x[s.x.length - 1] ?? 0) });
      showLatest(plot);
    }
  }

  private push(x: number, loss: number | null, acc: number | null, valLoss: number | null, valAcc: number | null) {
    const l = this.data.loss;
    const a = this.data.accuracy;
    // A log scale cannot show 0; a loss that small is off the chart anyway.
    const safe = (v: number | null) => (v == null ? null : Math.max(v, 1e-6));
    l.x.push(x);
    l.train.push(safe(loss));
    l.val.push(safe(valLoss));
    a.x.push(x);
    a.train.push(acc);
    a.val.push(valAcc);
    if (l.x.length > MAX_POINTS) {
      this.data = { loss: thin(l), accuracy: thin(a) };
      this.stride *= 2;
    }
    this.dirty = true;
  }

  private resize(lossEl: HTMLElement, accuracyEl: HTMLElement): void {
    this.loss.setSize(size(lossEl));
    this.accuracy.setSize(size(accuracyEl));
  }
}

function empty(): Series {
  return { x: [], train: [], val: [] };
}

/** Halves the training points (averaging pairs) and keeps every validation point. */
function thin(s: Series): Series {
  const out = empty();
  let held: { x: number; v: number } | null = null;
  for (let i = 0; i < s.x.length; i++) {
    const t = s.train[i];
    if (t == null) {
      out.x.push(s.x[i]);
      out.train.push(null);
      out.val.push(s.val[i]);
    } else if (held) {
      out.x.push(s.x[i]);
      out.train.push((held.v + t) / 2);
      out.val.push(null);
      held = null;
    } else {
      held = { x: s.x[i], v: t };
    }
  }
  if (held) {
    out.x.push(held.x);
    out.train.push(held.v);
    out.val.push(null);
  }
  return out;
}

function size(el: HTMLElement): { width: number; height: number } {
  return { width: Math.max(200, el.clientWidth), height: 220 };
}

/** A chart of training and validation values; `format` is for the legend, `tick` for the axis. */
function chart(
  el: HTMLElement,
  scale: uPlot.Scale,
  format: (v: number | null) => string,
  tick: (v: number) => string,
): uPlot {
  const axis = AXIS;
  return new uPlot(
    {
      ...size(el),
      legend: { live: true },
      // Over a point where one series has no value (validation comes once an epoch), show its nearest value.
      cursor: { drag: { x: false, y: false }, hover: { skip: [null, undefined] } },
      hooks: { setLegend: [showLatest] },
      scales: { x: { time: false }, y: { auto: true, ...scale } },
      axes: [
        { ...axis, label: 'epoch', labelFont: '12px system-ui, sans-serif', labelSize: 20 },
        {
          ...axis,
          size: 50,
          ...(scale.distr === 3 ? { splits: logSplits } : {}),
          values: (_u, ticks) => ticks.map((t) => (t == null ? '' : tick(t))),
        },
      ],
      series: [
        { label: 'epoch', value: (_u, v) => (v == null ? '' : v.toFixed(2)) },
        {
          label: 'training',
          stroke: TRAIN_COLOR,
          width: 1.5,
          spanGaps: true,
          points: { show: false },
          value: (_u, v) => format(v),
        },
        {
          label: 'validation',
          stroke: VAL_COLOR,
          width: 2,
          spanGaps: true,
          points: { show: true, size: 6, fill: VAL_COLOR },
          value: (_u, v) => format(v),
        },
      ],
    },
    [[], [], []],
    el,
  );
}

/** Index of the last non-null value of a series, or null. */
function lastIndex(values: readonly (number | null | undefined)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] != null) return i;
  return null;
}

/** Puts the latest values in the legend while the pointer is not over the chart (uPlot leaves it blank). */
function showLatest(plot: uPlot): void {
  if ((plot.cursor.left ?? -1) >= 0) return;
  const idxs = plot.data.map((values) => lastIndex(values as (number | null)[]));
  plot.setLegend({ idxs }, false);
}

/** The log-scale loss axis over [min, max] of the data; before there is any, a decade either side of 1. */
function lossRange(_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
  if (min == null || max == null || !(min > 0)) return [0.1, 10];
  return uPlot.rangeLog(min, max, 10, false);
}

/**
 * Ticks for the log-scale loss axis: powers of ten, with 2 and 5 between them while the range spans less than
 * two decades (uPlot's default marks every 1..9, a dense mesh of grid lines).
 */
function logSplits(_u: uPlot, _axis: number, min: number, max: number): number[] {
  if (!(min > 0 && max > min)) return [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const steps = hi - lo <= 2 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let d = lo; d <= hi; d++) {
    for (const m of steps) {
      const v = m * 10 ** d;
      if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
    }
  }
  return out;
}
