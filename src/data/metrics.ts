/**
 * Scores of predictions against targets, in the targets' own units: root mean squared error, mean absolute
 * error and the coefficient of determination R², as sklearn.metrics computes them (R² averaged over outputs
 * with equal weight), and the accuracy of class predictions.
 */

/** Regression scores of one set of predictions. */
export interface RegressionMetrics {
  /** Root mean squared error over every row and output. */
  rmse: number;
  /** Mean absolute error over every row and output. */
  mae: number;
  /** 1 − Σ(y − ŷ)² / Σ(y − ȳ)² per output (ȳ the mean of the rows scored), averaged over the outputs. */
  r2: number;
}

/** RMSE, MAE and R² of `predicted` against `actual`, both [n, outputs] row-major. */
export function regressionMetrics(
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
  outputs = 1,
): RegressionMetrics {
  if (predicted.length !== actual.length || actual.length === 0 || actual.length % outputs !== 0) {
    throw new RangeError(
      `regressionMetrics: expected two equal, non-empty [n, ${outputs}] arrays, got ${predicted.length} and ${actual.length} values`,
    );
  }
  const n = actual.length / outputs;
  let sq = 0;
  let abs = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = predicted[i] - actual[i];
    sq += e * e;
    abs += Math.abs(e);
  }
  let r2 = 0;
  for (let j = 0; j < outputs; j++) {
    let mean = 0;
    for (let r = 0; r < n; r++) mean += actual[r * outputs + j] / n;
    let res = 0;
    let tot = 0;
    for (let r = 0; r < n; r++) {
      res += (predicted[r * outputs + j] - actual[r * outputs + j]) ** 2;
      tot += (actual[r * outputs + j] - mean) ** 2;
    }
    // As sklearn: a constant target scores 1 when predicted exactly, else 0.
    r2 += tot > 0 ? 1 - res / tot : res === 0 ? 1 : 0;
  }
  return { rmse: Math.sqrt(sq / actual.length), mae: abs / actual.length, r2: r2 / outputs };
}

/** The share of rows whose predicted class equals the actual one. */
export function accuracy(predicted: ArrayLike<number>, actual: ArrayLike<number>): number {
  if (predicted.length !== actual.length || actual.length === 0) {
    throw new RangeError(
      `accuracy: expected two equal, non-empty arrays, got ${predicted.length} and ${actual.length}`,
    );
  }
  let hits = 0;
  for (let i = 0; i < actual.length; i++) if (predicted[i] === actual[i]) hits++;
  return hits / actual.length;
}
