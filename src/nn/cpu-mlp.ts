import type { Activation, LayerParameters, Loss, Targets } from '../core/types.js';

/**
 * The MLP and its loss in float64 on the CPU, written from the math rather than from the shaders, for the
 * gradient check (gradcheck.ts): one forward pass from the current parameters is kept, and the loss is then
 * re-evaluated with one layer's pre-activation changed, running only the layers from there on.
 *
 * Definitions (as src/core/types.ts and the README state them): leaky_relu has slope 0.01, gelu is the tanh
 * approximation, elu has α = 1, softmax runs along each row. cross_entropy is Σ_c y_c (lse(z) − z_c) per row
 * (or lse(z) − z_y for class indices), mean over rows; mse is the mean over rows and outputs of (F_L − y)²;
 * binary_cross_entropy is max(z, 0) − z·y + log(1 + e^−|z|), mean over rows and outputs.
 */

const LEAK = 0.01;
const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** Activations whose derivative jumps at 0: a difference whose ±h moves a unit across 0 is no derivative. */
const KINKED: ReadonlySet<Activation> = new Set<Activation>(['relu', 'leaky_relu']);

/** The shape of an MLP (Mlp has these fields). */
export interface MlpShape {
  readonly sizes: readonly number[];
  readonly activations: readonly Activation[];
  readonly loss: Loss;
}

function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + e^x) without overflow. */
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

function act(name: Activation, x: number): number {
  switch (name) {
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
    default:
      return x;
  }
}

/** Softmax of each row of z [rows, cols], shifted by the row's max. */
export function softmaxRows(z: Float64Array, rows: number, cols: number): Float64Array {
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

function activate(name: Activation, z: Float64Array, rows: number, cols: number): Float64Array {
  if (name === 'identity') return z;
  if (name === 'softmax') return softmaxRows(z, rows, cols);
  return z.map((v) => act(name, v));
}

/** inp [rows, nin] · weightᵀ + bias, weight [nout, nin]. */
function linear(inp: ArrayLike<number>, weight: Float64Array, bias: Float64Array, rows: number, nin: number) {
  const nout = bias.length;
  const out = new Float64Array(rows * nout);
  for (let r = 0; r < rows; r++) {
    const x = r * nin;
    for (let o = 0; o < nout; o++) {
      const w = o * nin;
      let sum = bias[o];
      for (let i = 0; i < nin; i++) sum += inp[x + i] * weight[w + i];
      out[r * nout + o] = sum;
    }
  }
  return out;
}

/**
 * Each row's loss of the last layer's output `out` [rows, n] (logits for the fused losses, F_L for mse), scaled
 * so that the batch loss is their mean (mse and binary_cross_entropy take the mean over the row's n outputs).
 */
export function rowLosses(loss: Loss, out: Float64Array, y: Targets, rows: number, n: number): Float64Array {
  const losses = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let sum = 0;
    if (loss === 'cross_entropy') {
      let max = -Infinity;
      for (let c = 0; c < n; c++) max = Math.max(max, out[o + c]);
      let exps = 0;
      for (let c = 0; c < n; c++) exps += Math.exp(out[o + c] - max);
      const lse = max + Math.log(exps);
      if (y instanceof Uint32Array) sum = lse - out[o + y[r]];
      else for (let c = 0; c < n; c++) sum += y[o + c] * (lse - out[o + c]);
    } else if (loss === 'mse') {
      for (let c = 0; c < n; c++) sum += (out[o + c] - y[o + c]) ** 2 / n;
    } else {
      for (let c = 0; c < n; c++) sum += (softplus(out[o + c]) - out[o + c] * y[o + c]) / n;
    }
    losses[r] = sum;
  }
  return losses;
}

/** A forward pass from changed parameters. */
export interface Pass {
  /** What the loss reads, [rows, n]: the logits for the fused losses, F_L for mse. */
  out: Float64Array;
  /** Each row's loss. */
  rows: Float64Array;
  /** Whether a relu or leaky_relu unit's pre-activation, in any row, is on the other side of 0 than before. */
  crossed: boolean;
}

/**
 * The size of each term of ∂L/∂out [rows, n] (the loss's derivative with respect to what it reads, batch mean
 * included) with the terms' magnitudes added where the derivative subtracts them: (s·Σy + y)/b for
 * cross_entropy, 2(|F| + |y|)/(b·n) for mse, (sigmoid(z) + |y|)/(b·n) for binary_cross_entropy. A float32
 * computation of the derivative is good to about u times this, however much the terms cancel.
 */
export function lossSlopeSizes(loss: Loss, out: Float64Array, y: Targets, rows: number, n: number): Float64Array {
  const sizes = new Float64Array(rows * n);
  if (loss === 'cross_entropy') {
    const s = softmaxRows(out, rows, n);
    for (let r = 0; r < rows; r++) {
      const o = r * n;
      let total = 1;
      if (!(y instanceof Uint32Array)) {
        total = 0;
        for (let c = 0; c < n; c++) total += y[o + c];
      }
      for (let c = 0; c < n; c++) {
        const target = y instanceof Uint32Array ? Number(y[r] === c) : y[o + c];
        sizes[o + c] = (s[o + c] * Math.abs(total) + Math.abs(target)) / rows;
      }
    }
    return sizes;
  }
  for (let j = 0; j < rows * n; j++) {
    const f = loss === 'mse' ? 2 * Math.abs(out[j]) : sigmoid(out[j]);
    sizes[j] = (f + Math.abs(y[j] as number)) / (rows * n);
  }
  return sizes;
}

/** A float64 copy of an MLP at its current parameters, with one forward pass over a batch kept. */
export class CpuMlp {
  private readonly weights: Float64Array[];
  private readonly biases: Float64Array[];
  /** Pre-activations and activations of every layer at the current parameters, [rows, sizes[l + 1]]. */
  readonly z: Float64Array[] = [];
  readonly a: Float64Array[] = [];
  /** Each row's loss at the current parameters; the batch loss is their mean. */
  readonly rowLosses: Float64Array;

  constructor(
    private readonly shape: MlpShape,
    params: readonly LayerParameters[],
    private readonly x: Float32Array,
    private readonly y: Targets,
    private readonly rows: number,
  ) {
    this.weights = params.map((p) => Float64Array.from(p.weight));
    this.biases = params.map((p) => Float64Array.from(p.bias));
    this.rowLosses = this.forwardFrom(0, this.linear(0), true).rows;
  }

  /** The batch loss at the current parameters. */
  get loss(): number {
    return this.rowLosses.reduce((sum, l) => sum + l, 0) / this.rows;
  }

  /** The parameter value: weight [o, i] of layer l, or its bias [o] when i < 0. */
  parameter(l: number, o: number, i: number): number {
    return i < 0 ? this.biases[l][o] : this.weights[l][o * this.shape.sizes[l] + i];
  }

  /**
   * The pass with that parameter moved by delta, every other one as it is (see Pass).
   */
  lossWith(l: number, o: number, i: number, delta: number): Pass {
    const nin = this.shape.sizes[l];
    const nout = this.shape.sizes[l + 1];
    // Only column o of z_l moves: by delta for the bias, by delta times input i for weight [o, i].
    const z = this.z[l].slice();
    const inp = l === 0 ? this.x : this.a[l - 1];
    for (let r = 0; r < this.rows; r++) z[r * nout + o] += i < 0 ? delta : delta * inp[r * nin + i];
    return this.forwardFrom(l, z, false);
  }

  /** lossSlopeSizes at the current parameters. */
  lossSlopeSizes(): Float64Array {
    const n = this.shape.sizes[this.shape.sizes.length - 1];
    return lossSlopeSizes(this.shape.loss, this.a[this.a.length - 1], this.y, this.rows, n);
  }

  /** The network's output: softmax probabilities for cross_entropy, sigmoid for binary_cross_entropy, else F_L. */
  outputs(): Float64Array {
    const last = this.a[this.a.length - 1];
    const n = this.shape.sizes[this.shape.sizes.length - 1];
    if (this.shape.loss === 'cross_entropy') return softmaxRows(last, this.rows, n);
    return this.shape.loss === 'binary_cross_entropy' ? last.map(sigmoid) : last;
  }

  private linear(l: number, inp: ArrayLike<number> = l === 0 ? this.x : this.a[l - 1]): Float64Array {
    return linear(inp, this.weights[l], this.biases[l], this.rows, this.shape.sizes[l]);
  }

  /** Runs layers l.. from layer l's pre-activation z; `keep` stores the pass as the current one. */
  private forwardFrom(l: number, z: Float64Array, keep: boolean): Pass {
    const { sizes, activations } = this.shape;
    let crossed = false;
    let a: Float64Array = z;
    for (let k = l; k < activations.length; k++) {
      if (k > l) z = this.linear(k, a);
      a = activate(activations[k], z, this.rows, sizes[k + 1]);
      if (keep) {
        this.z.push(z);
        this.a.push(a);
      } else if (!crossed && KINKED.has(activations[k])) {
        crossed = changesSide(this.z[k], z);
      }
    }
    return { out: a, rows: rowLosses(this.shape.loss, a, this.y, this.rows, sizes[sizes.length - 1]), crossed };
  }
}

/** Whether any entry is positive in one array and not in the other. */
function changesSide(before: Float64Array, after: Float64Array): boolean {
  for (let j = 0; j < before.length; j++) if (before[j] > 0 !== after[j] > 0) return true;
  return false;
}
