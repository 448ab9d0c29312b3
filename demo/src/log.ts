import type { EpochInfo, RegressionMetrics } from '../../src/index.js';

export function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** A value in a table's own units, to 4 significant digits (as `webgrad train` prints them). */
export function units(x: number): string {
  return String(Number(x.toPrecision(4)));
}

const CLASSIFICATION = ['Epoch', 'Loss', 'Acc.', 'Val. loss', 'Val. acc.', 'Samples/s'];
/**
 * Regression has no accuracy worth showing (mse's is |out − y| < 0.5 in standardised units): its columns are the
 * validation RMSE and R², in the targets' units, filled in once the epoch's validation rows are predicted.
 */
const REGRESSION = ['Epoch', 'Loss', 'Val. loss', 'Val. RMSE', 'Val. R²', 'Samples/s'];

/** The table of epochs: one row per epoch (or part of one, cut short by a pause), newest first. */
export class EpochLog {
  private regression = false;

  constructor(
    private readonly head: HTMLElement,
    private readonly body: HTMLElement,
  ) {}

  /** Empties the log, its columns set for classification or regression (unchanged when not given). */
  clear(regression = this.regression): void {
    this.body.replaceChildren();
    if (regression === this.regression && this.head.childElementCount > 0) return;
    this.regression = regression;
    this.head.innerHTML = `<tr>${(regression ? REGRESSION : CLASSIFICATION).map((c) => `<th>${c}</th>`).join('')}</tr>`;
  }

  add(info: EpochInfo, epochsDone: number, complete: boolean): HTMLTableRowElement {
    const row = document.createElement('tr');
    const epoch = complete ? String(epochsDone) : `${epochsDone + 1} (part)`;
    const valLoss = info.valLoss === undefined ? '–' : info.valLoss.toFixed(4);
    const speed = Math.round(info.samplesPerSec).toLocaleString('en-US');
    const cells = this.regression
      ? [epoch, info.loss.toFixed(4), valLoss, '–', '–', speed]
      : [
          epoch,
          info.loss.toFixed(4),
          pct(info.accuracy),
          valLoss,
          info.valAccuracy === undefined ? '–' : pct(info.valAccuracy),
          speed,
        ];
    row.innerHTML = cells.map((c) => `<td>${c}</td>`).join('');
    Object.assign(row.dataset, {
      loss: String(info.loss),
      accuracy: String(info.accuracy),
      valLoss: String(info.valLoss ?? ''),
      valAccuracy: String(info.valAccuracy ?? ''),
      complete: String(complete),
    });
    this.body.prepend(row);
    return row;
  }

  /** Writes a regression row's validation scores. */
  score(row: HTMLTableRowElement, m: RegressionMetrics): void {
    row.cells[3].textContent = units(m.rmse);
    row.cells[4].textContent = m.r2.toFixed(3);
    Object.assign(row.dataset, { valRmse: String(m.rmse), valR2: String(m.r2) });
  }
}
