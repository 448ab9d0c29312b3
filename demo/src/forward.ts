import type { Activation, LayerParameters, Loss } from '../../src/index.js';

/**
 * Multiply-adds above which a forward pass is left to the GPU: about 50 ms of JavaScript. Below it the page
 * draws an untrained or loaded model's predictions on the CPU at once; on a CPU adapter (SwiftShader) the
 * first GPU prediction of a model can take seconds, as its kernels are specialised on first use.
 */
export const CPU_FORWARD_BUDGET = 64e6;

/** Multiply-adds of a forward pass of `rows` rows through layers of these widths. */
export function forwardCost(sizes: readonly number[], rows: number): number {
  let macs = 0;
  for (let l = 0; l + 1 < sizes.length; l++) macs += sizes[l] * sizes[l + 1];
  return macs * rows;
}

const GELU_K = Math.sqrt(2 / Math.PI);
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

function act(name: Activation, v: number): number {
  switch (name) {
    case 'relu':
      return Math.max(v, 0);
    case 'leaky_relu':
      return v > 0 ? v : 0.01 * v;
    case 'sigmoid':
      return sigmoid(v);
    case 'tanh':
      return Math.tanh(v);
    case 'gelu':
      return 0.5 * v * (1 + Math.tanh(GELU_K * (v + 0.044715 * v * v * v)));
    case 'softplus':
      return Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    case 'elu':
      return v > 0 ? v : Math.expm1(v);
    case 'silu':
      return v * sigmoid(v);
    default:
      return v;
  }
}

/** Softmax along each row of z [rows, cols], in place. */
function softmaxRows(z: Float32Array, cols: number): void {
  for (let o = 0; o < z.length; o += cols) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, z[o + c]);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += z[o + c] = Math.exp(z[o + c] - max);
    for (let c = 0; c < cols; c++) z[o + c] /= sum;
  }
}

/**
 * What model.predict returns, computed on the CPU from the model's parameters: x [rows, in] to [rows, out],
 * probabilities for cross_entropy (softmax) and binary_cross_entropy (sigmoid), else the last activation's
 * output. Float32 like the GPU, though not in its order of summation, so the last bits may differ.
 */
export function forward(
  params: readonly LayerParameters[],
  activations: readonly Activation[],
  loss: Loss,
  x: Float32Array,
  rows: number,
): Float32Array {
  let a = x;
  params.forEach(({ weight, bias }, l) => {
    const nout = bias.length;
    const nin = weight.length / nout;
    const z = new Float32Array(rows * nout);
    const name = activations[l];
    for (let r = 0; r < rows; r++) {
      const xr = r * nin;
      for (let o = 0; o < nout; o++) {
        const wo = o * nin;
        let sum = bias[o];
        for (let i = 0; i < nin; i++) sum += a[xr + i] * weight[wo + i];
        z[r * nout + o] = name === 'identity' ? sum : act(name, sum);
      }
    }
    if (name === 'softmax') softmaxRows(z, nout);
    a = z;
  });
  if (loss === 'cross_entropy') softmaxRows(a, a.length / rows);
  else if (loss === 'binary_cross_entropy') for (let k = 0; k < a.length; k++) a[k] = sigmoid(a[k]);
  return a;
}
