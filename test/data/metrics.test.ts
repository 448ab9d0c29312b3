import { describe, expect, it } from 'vitest';
import { accuracy, regressionMetrics } from '../../src/data/metrics.js';

describe('metrics', () => {
  it('computes RMSE, MAE and R² as sklearn does', () => {
    // sklearn: mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) = 0.375, r2_score = 0.9486081370449679
    const m = regressionMetrics([2.5, 0.0, 2, 8], [3, -0.5, 2, 7]);
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.375), 12);
    expect(m.mae).toBeCloseTo(0.5, 12);
    expect(m.r2).toBeCloseTo(0.9486081370449679, 12);
    // Two outputs: R² averaged over them with equal weight (sklearn's uniform_average).
    const two = regressionMetrics([0, 10, 1, 20, 2, 30], [0, 10, 1, 20, 2, 40], 2);
    expect(two.r2).toBeCloseTo((1 + (1 - 100 / 466.6666666666667)) / 2, 12);
    expect(regressionMetrics([1, 1], [1, 1]).r2).toBe(1);
    expect(() => regressionMetrics([1], [1, 2])).toThrow(RangeError);
  });

  it('computes accuracy', () => {
    expect(accuracy([0, 1, 2, 2], Uint32Array.of(0, 1, 1, 2))).toBe(0.75);
    expect(() => accuracy([], [])).toThrow(RangeError);
  });
});
