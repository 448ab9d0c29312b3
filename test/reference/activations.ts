import type { Activation } from '../../src/core/types.js';

const LEAK = 0.01;
const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** Stable logistic: never evaluates exp of a large positive number. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + e^x) without overflow for large x or loss of precision for very negative x. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

export function act(name: Activation, x: number): number {
  switch (name) {
    case 'identity':
      return x;
    case 'relu':
      return Math.max(x, 0);
    case 'leaky_relu':
      return x > 0 ? x : LEAK * x;
    case 'sigmoid':
      return sigmoid(x);
    case 'tanh':
      return Math.tanh(x);
    case 'gelu':
      return 0.5 * x * (1 + Math.tanh(GELU_K * (x + GELU_C * x * x * x)));
    case 'softplus':
      return softplus(x);
    case 'elu':
      return x > 0 ? x : Math.expm1(x);
    case 'silu':
      return x * sigmoid(x);
    case 'softmax':
      throw new Error('softmax is not coordinatewise; use activationForward');
  }
}

export function dact(name: Activation, x: number): number {
  switch (name) {
    case 'identity':
      return 1;
    case 'relu':
      return x > 0 ? 1 : 0;
    case 'leaky_relu':
      return x > 0 ? 1 : LEAK;
    case 'sigmoid': {
      const s = sigmoid(x);
      return s * (1 - s);
    }
    case 'tanh': {
      const t = Math.tanh(x);
      return 1 - t * t;
    }
    case 'gelu': {
      const t = Math.tanh(GELU_K * (x + GELU_C * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_K * (1 + 3 * GELU_C * x * x);
    }
    case 'softplus':
      return sigmoid(x);
    case 'elu':
      return x > 0 ? 1 : Math.exp(x);
    case 'silu': {
      const s = sigmoid(x);
      return s * (1 + x * (1 - s));
    }
    case 'softmax':
      throw new Error('softmax is not coordinatewise; use activationBackward');
  }
}

/** Softmax of each row, shifted by the row max so exp never overflows. */
export function softmaxRows(z: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, z[o + c]);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += out[o + c] = Math.exp(z[o + c] - max);
    for (let c = 0; c < cols; c++) out[o + c] /= sum;
  }
  return out;
}

export function activationForward(name: Activation, z: ArrayLike<number>, rows: number, cols: number): Float64Array {
  if (name === 'softmax') return softmaxRows(z, rows, cols);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows * cols; i++) out[i] = act(name, z[i]);
  return out;
}

/** Jᵀ·dout per row, where J is the activation's Jacobian at z. */
export function activationBackward(
  name: Activation,
  z: ArrayLike<number>,
  dout: ArrayLike<number>,
  rows: number,
  cols: number,
): Float64Array {
  const dinp = new Float64Array(rows * cols);
  if (name === 'softmax') {
    // J = diag(s) − s sᵀ is symmetric, so Jᵀv = s ⊙ (v − ⟨s, v⟩).
    const s = softmaxRows(z, rows, cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += s[o + c] * dout[o + c];
      for (let c = 0; c < cols; c++) dinp[o + c] = s[o + c] * (dout[o + c] - dot);
    }
    return dinp;
  }
  for (let i = 0; i < rows * cols; i++) dinp[i] = dact(name, z[i]) * dout[i];
  return dinp;
}
