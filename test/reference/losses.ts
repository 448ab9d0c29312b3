import type { Loss } from '../../src/core/types.js';
import { sigmoid, softmaxRows } from './activations.js';

/** Targets: [b, n] values (probabilities for cross_entropy) or [b] class indices (cross_entropy only). */
export type RefTargets = Float32Array | Float64Array | Uint32Array;

function checkTargets(loss: Loss, y: RefTargets, b: number, n: number): void {
  if (y instanceof Uint32Array) {
    if (loss !== 'cross_entropy') throw new Error(`class-index targets need cross_entropy, not ${loss}`);
    if (y.length !== b) throw new Error(`expected ${b} class indices, got ${y.length}`);
    for (let r = 0; r < b; r++) if (y[r] >= n) throw new Error(`class index ${y[r]} out of range [0, ${n})`);
  } else if (y.length !== b * n) {
    throw new Error(`expected ${b * n} targets, got ${y.length}`);
  }
}

/** log Σ exp(z) of one row, shifted by the max. */
function logSumExp(z: ArrayLike<number>, o: number, n: number): number {
  let max = -Infinity;
  for (let c = 0; c < n; c++) max = Math.max(max, z[o + c]);
  let sum = 0;
  for (let c = 0; c < n; c++) sum += Math.exp(z[o + c] - max);
  return max + Math.log(sum);
}

/**
 * Each row's loss, scaled so that the batch loss is their mean: for mse and binary_cross_entropy that is the
 * mean over the row's n outputs. `out` is Z_L for cross_entropy and binary_cross_entropy, F_L for mse.
 */
export function rowLosses(loss: Loss, out: ArrayLike<number>, y: RefTargets, b: number, n: number): Float64Array {
  checkTargets(loss, y, b, n);
  const rows = new Float64Array(b);
  for (let r = 0; r < b; r++) {
    const o = r * n;
    let sum = 0;
    switch (loss) {
      case 'cross_entropy': {
        const lse = logSumExp(out, o, n);
        if (y instanceof Uint32Array) sum = lse - out[o + y[r]];
        else for (let c = 0; c < n; c++) sum += y[o + c] * (lse - out[o + c]);
        break;
      }
      case 'mse':
        for (let c = 0; c < n; c++) sum += (out[o + c] - y[o + c]) ** 2 / n;
        break;
      case 'binary_cross_entropy':
        for (let c = 0; c < n; c++) {
          const z = out[o + c];
          sum += (Math.max(z, 0) - z * y[o + c] + Math.log1p(Math.exp(-Math.abs(z)))) / n;
        }
        break;
    }
    rows[r] = sum;
  }
  return rows;
}

/** The loss averaged over the batch (and, for mse and binary_cross_entropy, over the outputs too). */
export function lossValue(loss: Loss, out: ArrayLike<number>, y: RefTargets, b: number, n: number): number {
  let sum = 0;
  for (const l of rowLosses(loss, out, y, b, n)) sum += l;
  return sum / b;
}

/** ∂ lossValue / ∂ out, including the 1/b (and 1/n) of the mean. */
export function lossGrad(loss: Loss, out: ArrayLike<number>, y: RefTargets, b: number, n: number): Float64Array {
  checkTargets(loss, y, b, n);
  const dout = new Float64Array(b * n);
  switch (loss) {
    case 'cross_entropy': {
      const s = softmaxRows(out, b, n);
      for (let r = 0; r < b; r++) {
        const o = r * n;
        if (y instanceof Uint32Array) {
          for (let c = 0; c < n; c++) dout[o + c] = (s[o + c] - (c === y[r] ? 1 : 0)) / b;
        } else {
          // Targets need not sum to one, so the softmax term carries Σy.
          let total = 0;
          for (let c = 0; c < n; c++) total += y[o + c];
          for (let c = 0; c < n; c++) dout[o + c] = (s[o + c] * total - y[o + c]) / b;
        }
      }
      break;
    }
    case 'mse':
      for (let i = 0; i < b * n; i++) dout[i] = (2 * (out[i] - y[i])) / (b * n);
      break;
    case 'binary_cross_entropy':
      for (let i = 0; i < b * n; i++) dout[i] = (sigmoid(out[i]) - y[i]) / (b * n);
      break;
  }
  return dout;
}
