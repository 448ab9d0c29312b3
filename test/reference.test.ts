import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, type Activation, type Loss, type ScheduleOptions } from '../src/core/types.js';
import { act, activationBackward, activationForward, dact } from './reference/activations.js';
import { expectClose, randomArray } from './reference/check.js';
import { lossGrad, lossValue, type RefTargets, rowLosses } from './reference/losses.js';
import { forward, lossAndGradients, predict, type RefLayer, type RefSpec, toRefLayers } from './reference/mlp.js';
import { clipByGlobalNorm, RefOptimizer } from './reference/optimizers.js';
import { learningRateFactor } from './reference/schedules.js';

// Central differences in float64 with h = 1e-6: truncation error ~h²·f''' ≈ 1e-12 and rounding error
// ~1e-16·|f|/h ≈ 1e-10 (the worst seen is 5e-10), so this leaves a 20x margin yet catches any wrong term.
const H = 1e-6;
const FD = { atol: 1e-8, rtol: 1e-6 };
// Results that should agree up to float64 rounding only.
const EXACT = { atol: 1e-13, rtol: 1e-12 };

/** ∂f/∂x by central differences, perturbing x in place and restoring it. */
function numericGrad(f: (x: Float64Array) => number, x: Float64Array): Float64Array {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i];
    x[i] = saved + H;
    const up = f(x);
    x[i] = saved - H;
    const down = f(x);
    x[i] = saved;
    grad[i] = (up - down) / (2 * H);
  }
  return grad;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** Uniform inputs kept away from 0, where relu, leaky_relu and elu have kinks that differences straddle. */
function awayFromKinks(n: number, seed: number, scale: number): Float64Array {
  return randomArray(n, seed, scale).map((x) => (Math.abs(x) < 1e-2 ? x + 0.05 : x));
}

/** Rows of nonnegative weights; normalised rows are probability targets. */
function targetRows(b: number, n: number, seed: number, normalise: boolean): Float64Array {
  const y = randomArray(b * n, seed).map(Math.abs);
  if (!normalise) return y;
  for (let r = 0; r < b; r++) {
    let sum = 0;
    for (let c = 0; c < n; c++) sum += y[r * n + c];
    for (let c = 0; c < n; c++) y[r * n + c] /= sum;
  }
  return y;
}

function classIndices(b: number, n: number, seed: number): Uint32Array {
  return Uint32Array.from(randomArray(b, seed), (u) => Math.floor(((u + 1) / 2) * n));
}

describe('activations', () => {
  it('match known values and stay finite at extremes', () => {
    const cases: [Activation, number, number][] = [
      ['identity', -1.5, -1.5],
      ['relu', -2, 0],
      ['relu', 2, 2],
      ['leaky_relu', -2, -0.02],
      ['sigmoid', 0, 0.5],
      ['sigmoid', -1000, 0],
      ['sigmoid', 1000, 1],
      ['tanh', 0.5, Math.tanh(0.5)],
      ['gelu', 1, 0.8411919906],
      ['gelu', -1, -0.1588080094],
      ['gelu', 1000, 1000],
      ['gelu', -1000, 0],
      ['softplus', 0, Math.LN2],
      ['softplus', 1000, 1000],
      ['softplus', -1000, 0],
      ['softplus', -40, Math.exp(-40)],
      ['elu', -1, Math.exp(-1) - 1],
      ['elu', -1000, -1],
      ['silu', 1, 1 / (1 + Math.exp(-1))],
      ['silu', -1000, 0],
    ];
    for (const [name, x, y] of cases) expectClose([act(name, x)], [y], { atol: 1e-10, rtol: 1e-9 }, `${name}(${x})`);
    for (const name of ACTIVATIONS) {
      if (name === 'softmax') continue;
      for (const x of [-1000, 1000]) expect(Number.isFinite(dact(name, x)), `${name}'(${x})`).toBe(true);
    }
    expectClose(
      activationForward('softmax', [1000, 0, -1000, 1, 1, 1], 2, 3),
      [1, 0, 0, 1 / 3, 1 / 3, 1 / 3],
      EXACT,
      'softmax',
    );
  });

  it('put the derivative at 0 on the flat side of the kink', () => {
    expect(dact('relu', 0)).toBe(0);
    expect(dact('leaky_relu', 0)).toBe(0.01);
    expect(dact('leaky_relu', 1e-9)).toBe(1);
  });

  it('refuse softmax coordinatewise', () => {
    expect(() => act('softmax', 0)).toThrow();
    expect(() => dact('softmax', 0)).toThrow();
  });

  it.each(ACTIVATIONS)('%s backward matches central differences', (name) => {
    const [rows, cols] = [4, 5];
    const z = awayFromKinks(rows * cols, 11, 3);
    const dout = randomArray(rows * cols, 12);
    const numeric = numericGrad((zz) => dot(dout, activationForward(name, zz, rows, cols)), z);
    expectClose(activationBackward(name, z, dout, rows, cols), numeric, FD, `${name} backward`);
  });
});

describe('losses', () => {
  const [b, n] = [4, 3];
  const targets: [string, Loss, () => RefTargets][] = [
    ['cross_entropy, probabilities', 'cross_entropy', () => targetRows(b, n, 21, true)],
    ['cross_entropy, unnormalised weights', 'cross_entropy', () => targetRows(b, n, 22, false)],
    ['cross_entropy, Float32Array one-hot', 'cross_entropy', () => oneHot(classIndices(b, n, 23), n)],
    ['cross_entropy, class indices', 'cross_entropy', () => classIndices(b, n, 23)],
    ['mse', 'mse', () => randomArray(b * n, 24)],
    ['binary_cross_entropy', 'binary_cross_entropy', () => targetRows(b, n, 25, false).map((y) => Math.min(y, 1))],
    [
      'binary_cross_entropy, hard labels',
      'binary_cross_entropy',
      () => Float32Array.from(oneHot(classIndices(b, n, 26), n)),
    ],
  ];

  it.each(targets)('%s gradient matches central differences', (_, loss, target) => {
    const y = target();
    const out = randomArray(b * n, 27, 3);
    const numeric = numericGrad((o) => lossValue(loss, o, y, b, n), out);
    expectClose(lossGrad(loss, out, y, b, n), numeric, FD, `${loss} grad`);
    const rows = rowLosses(loss, out, y, b, n);
    expectClose([rows.reduce((s, l) => s + l, 0) / b], [lossValue(loss, out, y, b, n)], EXACT, 'mean of rows');
  });

  it('match known values', () => {
    expectClose([lossValue('cross_entropy', [0, 0], Uint32Array.of(0), 1, 2)], [Math.LN2], EXACT, 'ce');
    expectClose([lossValue('binary_cross_entropy', [0, 0], Float64Array.of(1, 0), 1, 2)], [Math.LN2], EXACT, 'bce');
    expectClose([lossValue('mse', [1, 2, 3, 4], Float64Array.of(0, 0, 0, 0), 2, 2)], [7.5], EXACT, 'mse');
    // Against the textbook form −y·log σ(z) − (1 − y)·log(1 − σ(z)) where that form is still accurate.
    const [z, y] = [0.7, 0.3];
    const s = 1 / (1 + Math.exp(-z));
    const naive = -y * Math.log(s) - (1 - y) * Math.log(1 - s);
    expectClose([lossValue('binary_cross_entropy', [z], Float64Array.of(y), 1, 1)], [naive], EXACT, 'bce textbook');
  });

  it('agree between class indices and one-hot targets', () => {
    const out = randomArray(b * n, 31, 3);
    const idx = classIndices(b, n, 32);
    const hot = oneHot(idx, n);
    expectClose(
      [lossValue('cross_entropy', out, idx, b, n)],
      [lossValue('cross_entropy', out, hot, b, n)],
      EXACT,
      'ce loss',
    );
    expectClose(lossGrad('cross_entropy', out, idx, b, n), lossGrad('cross_entropy', out, hot, b, n), EXACT, 'ce grad');
  });

  it('stay finite for huge logits', () => {
    const out = [1000, -1000, 0, -1000, 1000, 0];
    const probs = Float64Array.of(0, 1, 0, 1, 0, 0);
    expectClose([lossValue('cross_entropy', out, probs, 2, 3)], [2000], EXACT, 'ce');
    expectClose(lossGrad('cross_entropy', out, probs, 2, 3), [0.5, -0.5, 0, -0.5, 0.5, 0], EXACT, 'ce grad');
    expectClose([lossValue('binary_cross_entropy', out, probs, 2, 3)], [(4000 + 2 * Math.LN2) / 6], EXACT, 'bce');
  });

  it('reject class indices outside cross_entropy', () => {
    expect(() => lossValue('mse', [0, 0], Uint32Array.of(1), 1, 2)).toThrow();
    expect(() => lossGrad('binary_cross_entropy', [0, 0], Uint32Array.of(1), 1, 2)).toThrow();
    expect(() => lossValue('cross_entropy', [0, 0], Uint32Array.of(2), 1, 2)).toThrow();
  });
});

function oneHot(idx: Uint32Array, n: number): Float32Array {
  const y = new Float32Array(idx.length * n);
  for (let r = 0; r < idx.length; r++) y[r * n + idx[r]] = 1;
  return y;
}

function randomLayers(sizes: number[], seed: number): RefLayer[] {
  return sizes.slice(1).map((nout, j) => ({
    weight: randomArray(nout * sizes[j], seed + 2 * j, 1.2),
    bias: randomArray(nout, seed + 2 * j + 1, 0.3),
  }));
}

/** Loss as a function of every parameter in turn, to difference the whole network. */
function flatNumericGrads(spec: RefSpec, params: RefLayer[], x: Float64Array, y: RefTargets, b: number): RefLayer[] {
  const loss = () => lossAndGradients(spec, params, x, y, b).loss;
  return params.map((layer) => ({ weight: numericGrad(loss, layer.weight), bias: numericGrad(loss, layer.bias) }));
}

describe('mlp', () => {
  it('computes the forward pass with torch.nn.Linear layout', () => {
    const spec: RefSpec = { sizes: [2, 2, 1], activations: ['relu', 'identity'], loss: 'mse' };
    const params = toRefLayers([
      { weight: Float32Array.of(1, 2, -3, 4), bias: Float32Array.of(0.5, -1) },
      { weight: Float32Array.of(2, -1), bias: Float32Array.of(0.25) },
    ]);
    // Rows x = (1, 1) and (1, -1): z1 = (3.5, 0) and (-0.5, -8), so a1 = (3.5, 0) and (0, 0).
    const { zs, as } = forward(spec, params, [1, 1, 1, -1], 2);
    expectClose(zs[0], [3.5, 0, -0.5, -8], EXACT, 'z1');
    expectClose(as[0], [3.5, 0, 0, 0], EXACT, 'a1');
    expectClose(zs[1], [7.25, 0.25], EXACT, 'z2');
    expectClose(predict(spec, params, [1, 1, 1, -1], 2), [7.25, 0.25], EXACT, 'predict');
  });

  it('predicts probabilities for the fused losses', () => {
    const sizes = [3, 4, 3];
    const params = randomLayers(sizes, 40);
    const x = randomArray(6, 41);
    const ce: RefSpec = { sizes, activations: ['tanh', 'identity'], loss: 'cross_entropy' };
    const { zs } = forward(ce, params, x, 2);
    expectClose(predict(ce, params, x, 2), activationForward('softmax', zs[1], 2, 3), EXACT, 'softmax');
    const bce: RefSpec = { ...ce, loss: 'binary_cross_entropy' };
    expectClose(predict(bce, params, x, 2), activationForward('sigmoid', zs[1], 2, 3), EXACT, 'sigmoid');
  });

  it('rejects a non-identity last activation for the fused losses', () => {
    const sizes = [2, 2];
    const params = randomLayers(sizes, 42);
    for (const loss of ['cross_entropy', 'binary_cross_entropy'] as const) {
      const spec: RefSpec = { sizes, activations: ['softmax'], loss };
      expect(() => lossAndGradients(spec, params, [0, 0], Float64Array.of(1, 0), 1)).toThrow();
    }
  });

  const sizes = [3, 5, 4, 3];
  const b = 4;
  const heads: [string, Loss, Activation, () => RefTargets][] = [
    ['cross_entropy, probabilities', 'cross_entropy', 'identity', () => targetRows(b, 3, 50, true)],
    ['cross_entropy, class indices', 'cross_entropy', 'identity', () => classIndices(b, 3, 51)],
    [
      'binary_cross_entropy',
      'binary_cross_entropy',
      'identity',
      () => targetRows(b, 3, 52, false).map((y) => Math.min(y, 1)),
    ],
    ['mse, identity', 'mse', 'identity', () => randomArray(b * 3, 53)],
    ['mse, sigmoid', 'mse', 'sigmoid', () => targetRows(b, 3, 54, false)],
    ['mse, softmax', 'mse', 'softmax', () => Float32Array.from(targetRows(b, 3, 55, true))],
    ['mse, tanh', 'mse', 'tanh', () => randomArray(b * 3, 56)],
    ['mse, relu', 'mse', 'relu', () => randomArray(b * 3, 57)],
  ];
  const cases = ACTIVATIONS.flatMap((hidden) => heads.map(([label, ...rest]) => [hidden, label, ...rest] as const));

  it.each(cases)(
    'gradients with %s hidden layers and %s match central differences',
    (hidden, _, loss, last, target) => {
      const spec: RefSpec = { sizes, activations: [hidden, hidden, last], loss };
      const params = randomLayers(sizes, 60);
      const x = randomArray(b * sizes[0], 61, 1.5);
      const y = target();
      const { gradients } = lossAndGradients(spec, params, x, y, b);
      const numeric = flatNumericGrads(spec, params, x, y, b);
      gradients.forEach((g, j) => {
        expectClose(g.weight, numeric[j].weight, FD, `dweight ${j}`);
        expectClose(g.bias, numeric[j].bias, FD, `dbias ${j}`);
      });
    },
  );

  it('gradients with mixed hidden activations match central differences', () => {
    const spec: RefSpec = {
      sizes: [4, 6, 5, 4, 3],
      activations: ['gelu', 'softmax', 'elu', 'identity'],
      loss: 'cross_entropy',
    };
    const params = randomLayers(spec.sizes, 70);
    const x = randomArray(3 * 4, 71);
    const y = classIndices(3, 3, 72);
    const { gradients } = lossAndGradients(spec, params, x, y, 3);
    const numeric = flatNumericGrads(spec, params, x, y, 3);
    gradients.forEach((g, j) => {
      expectClose(g.weight, numeric[j].weight, FD, `dweight ${j}`);
      expectClose(g.bias, numeric[j].bias, FD, `dbias ${j}`);
    });
  });

  it.each(heads)('the batch loss and gradients with %s are the means over single examples', (_, loss, last, target) => {
    const spec: RefSpec = { sizes, activations: ['silu', 'leaky_relu', last], loss };
    const params = randomLayers(sizes, 80);
    const x = randomArray(b * sizes[0], 81);
    const y = target();
    const batch = lossAndGradients(spec, params, x, y, b);
    const n = sizes[3];
    let meanLoss = 0;
    const mean = params.map((p) => ({
      weight: new Float64Array(p.weight.length),
      bias: new Float64Array(p.bias.length),
    }));
    for (let r = 0; r < b; r++) {
      const xr = x.subarray(r * sizes[0], (r + 1) * sizes[0]);
      const yr = y instanceof Uint32Array ? y.subarray(r, r + 1) : y.subarray(r * n, (r + 1) * n);
      const single = lossAndGradients(spec, params, xr, yr, 1);
      meanLoss += single.loss / b;
      single.gradients.forEach((g, j) => {
        for (let i = 0; i < g.weight.length; i++) mean[j].weight[i] += g.weight[i] / b;
        for (let i = 0; i < g.bias.length; i++) mean[j].bias[i] += g.bias[i] / b;
      });
    }
    expectClose([batch.loss], [meanLoss], EXACT, 'loss');
    batch.gradients.forEach((g, j) => {
      expectClose(g.weight, mean[j].weight, EXACT, `dweight ${j}`);
      expectClose(g.bias, mean[j].bias, EXACT, `dbias ${j}`);
    });
  });
});

describe('optimizers', () => {
  /** Runs an optimizer over fixed per-step gradients, returning the parameters after each step. */
  function run(options: ConstructorParameters<typeof RefOptimizer>[0], p0: number[], grads: number[][], lr: number) {
    const opt = new RefOptimizer(options, p0.length);
    const params = Float64Array.from(p0);
    return grads.map((g) => {
      opt.step(params, Float64Array.from(g), lr);
      return Array.from(params);
    });
  }

  it('sgd steps against the gradient, with L2 decay added to it', () => {
    expectClose(run({ type: 'sgd', learningRate: 0.1 }, [1, -2], [[0.5, 3]], 0.1)[0], [0.95, -2.3], EXACT, 'plain');
    // g + wd·p = (0.5 + 0.2, 3 − 0.4).
    const decayed = run({ type: 'sgd', learningRate: 0.1, weightDecay: 0.2 }, [1, -2], [[0.5, 3]], 0.1)[0];
    expectClose(decayed, [0.93, -2.26], EXACT, 'weight decay');
  });

  // Hand-derived with μ = 0.9, lr = 0.1 over gradients 0.5, −1, 2 (the second parameter mirrors the first).
  const grads = [
    [0.5, -0.5],
    [-1, 1],
    [2, -2],
  ];

  it('sgd momentum matches a hand computation over 3 steps', () => {
    // buf: 0.5, −0.55, 1.505.
    const steps = run({ type: 'sgd', learningRate: 0.1, momentum: 0.9 }, [1, -1], grads, 0.1);
    expectClose(steps.flat(), [0.95, -0.95, 1.005, -1.005, 0.8545, -0.8545], EXACT, 'momentum');
  });

  it('sgd nesterov matches a hand computation over 3 steps', () => {
    // Steps along g + μ·buf: 0.95, −1.495, 3.3545.
    const steps = run({ type: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: true }, [1, -1], grads, 0.1);
    expectClose(steps.flat(), [0.905, -0.905, 1.0545, -1.0545, 0.71905, -0.71905], EXACT, 'nesterov');
  });

  it("adam's first step moves each parameter by about lr·sign(g)", () => {
    const g = [0.3, -2, 1e-3, 5];
    const [p] = run({ type: 'adam', learningRate: 0.01 }, [0, 0, 0, 0], [g], 0.01);
    // The smallest gradient falls short of lr by lr·eps/|g| = 1e-7.
    expectClose(p, [-0.01, 0.01, -0.01, -0.01], { atol: 2e-7, rtol: 0 }, 'sign step');
    // Exactly lr·g/(|g| + eps), since both bias corrections undo the first moving-average factor.
    expectClose(
      p,
      g.map((v) => (-0.01 * v) / (Math.abs(v) + 1e-8)),
      EXACT,
      'first step',
    );
  });

  it('adam matches a hand computation on its second step', () => {
    // m = −0.01, v = 0.001999; corrections 0.19 and 0.001999, so the step is lr·(−0.01/0.19)/(1 + eps).
    const steps = run({ type: 'adam', learningRate: 0.1 }, [0], [[1], [-1]], 0.1);
    expectClose(steps.flat(), [-0.1, -0.1 + 0.1 / 19], { atol: 1e-8, rtol: 0 }, 'two steps');
  });

  it('adam honours beta, eps and L2 weight decay', () => {
    // eps = 1 keeps the step at lr·g/(|g| + 1) on the first step.
    expectClose(run({ type: 'adam', learningRate: 0.1, eps: 1 }, [0], [[1]], 0.1)[0], [-0.05], EXACT, 'eps');
    // beta2 = 0 makes v̂ = g², so the second step is lr·m̂/(|g| + eps) with m̂ = (0.5·0.5 + 0.5·3)/0.75 = 7/3.
    const betas = run({ type: 'adam', learningRate: 0.1, beta1: 0.5, beta2: 0 }, [0], [[1], [3]], 0.1);
    expectClose(betas.flat(), [-0.1, -0.1 - (0.1 * (7 / 3)) / 3], { atol: 1e-8, rtol: 0 }, 'betas');
    // g + wd·p = −0.1 + 0.1·2 > 0, so L2 decay flips the direction of the step.
    const l2 = run({ type: 'adam', learningRate: 0.1, weightDecay: 0.1 }, [2], [[-0.1]], 0.1)[0];
    expectClose(l2, [1.9], { atol: 1e-8, rtol: 0 }, 'l2');
  });

  it('adamw decays decoupled from the gradient, by 0.01 by default', () => {
    const byDefault = run({ type: 'adamw', learningRate: 0.1 }, [2], [[0.5]], 0.1)[0];
    expectClose(byDefault, [2 * (1 - 0.1 * 0.01) - 0.1], { atol: 1e-8, rtol: 0 }, 'default decay');
    const none = run({ type: 'adamw', learningRate: 0.1, weightDecay: 0 }, [2], [[0.5]], 0.1)[0];
    expectClose(none, [1.9], { atol: 1e-8, rtol: 0 }, 'no decay');
    // Unlike L2, the decay does not enter the moments, so the step still follows the gradient.
    const decoupled = run({ type: 'adamw', learningRate: 0.1, weightDecay: 0.1 }, [2], [[-0.1]], 0.1)[0];
    expectClose(decoupled, [2 * 0.99 + 0.1], { atol: 1e-8, rtol: 0 }, 'decoupled');
  });

  it('uses the learning rate passed to each step', () => {
    const steps = run({ type: 'sgd', learningRate: 1 }, [0], [[1]], 0.25);
    expectClose(steps[0], [-0.25], EXACT, 'lr');
  });
});

describe('schedules', () => {
  it.each([
    [{ type: 'constant' } as const, 0, 10, 1],
    [{ type: 'constant', warmupSteps: 4 } as const, 0, 10, 0.25],
    [{ type: 'constant', warmupSteps: 4 } as const, 3, 10, 1],
    [{ type: 'constant', warmupSteps: 4 } as const, 9, 10, 1],
    [{ type: 'step', stepSize: 3, gamma: 0.5 } as const, 2, 10, 1],
    [{ type: 'step', stepSize: 3, gamma: 0.5 } as const, 3, 10, 0.5],
    [{ type: 'step', stepSize: 3, gamma: 0.5 } as const, 7, 10, 0.25],
    [{ type: 'step', stepSize: 3 } as const, 3, 10, 0.1],
    [{ type: 'step', stepSize: 3, gamma: 0.5, warmupSteps: 2 } as const, 1, 10, 1],
    [{ type: 'step', stepSize: 3, gamma: 0.5, warmupSteps: 2 } as const, 5, 10, 0.5],
    [{ type: 'exponential', gamma: 0.9 } as const, 0, 10, 1],
    [{ type: 'exponential', gamma: 0.9 } as const, 5, 10, 0.59049],
    [{ type: 'cosine' } as const, 0, 10, 1],
    [{ type: 'cosine' } as const, 5, 10, 0.5],
    [{ type: 'cosine' } as const, 10, 10, 0],
    [{ type: 'cosine', minFactor: 0.2 } as const, 5, 10, 0.6],
    [{ type: 'cosine', minFactor: 0.2 } as const, 30, 10, 0.2],
    [{ type: 'cosine', warmupSteps: 2 } as const, 0, 12, 0.5],
    [{ type: 'cosine', warmupSteps: 2 } as const, 2, 12, 1],
    [{ type: 'cosine', warmupSteps: 2 } as const, 7, 12, 0.5],
    [{ type: 'cosine', warmupSteps: 2 } as const, 4, 12, (1 + Math.cos(Math.PI / 5)) / 2],
    [{ type: 'linear' } as const, 5, 10, 0.5],
    [{ type: 'linear', minFactor: 0.1 } as const, 0, 10, 1],
    [{ type: 'linear', minFactor: 0.1 } as const, 5, 10, 0.55],
    [{ type: 'linear', minFactor: 0.1 } as const, 20, 10, 0.1],
    [{ type: 'linear', warmupSteps: 5 } as const, 2, 15, 0.6],
    [{ type: 'linear', warmupSteps: 5 } as const, 10, 15, 0.5],
  ])('%o at step %i of %i is %d', (schedule, t, total, factor) => {
    expectClose([learningRateFactor(schedule, t, total)], [factor], EXACT, `${schedule.type} t=${t}`);
  });

  // Whole runs computed by hand from the formulas in the ScheduleOptions JSDoc, at t = 0, 1, 2, ...
  it.each<[string, ScheduleOptions, number, number[]]>([
    ['cosine over 4 steps', { type: 'cosine' }, 4, [1, (2 + Math.SQRT2) / 4, 0.5, (2 - Math.SQRT2) / 4, 0, 0, 0]],
    ['cosine, exact decimals', { type: 'cosine' }, 4, [1, 0.8535533905932737, 0.5, 0.14644660940672627, 0]],
    [
      'cosine, min 0.5, warmup 2',
      { type: 'cosine', minFactor: 0.5, warmupSteps: 2 },
      6,
      [0.5, 1, 1, 0.9267766952966369, 0.75, 0.5732233047033631, 0.5, 0.5, 0.5],
    ],
    [
      'cosine whose warmup takes the whole fit',
      { type: 'cosine', warmupSteps: 4, minFactor: 0.2 },
      4,
      [0.25, 0.5, 0.75, 1, 0.2],
    ],
    ['constant, warmup 3', { type: 'constant', warmupSteps: 3 }, 10, [1 / 3, 2 / 3, 1, 1, 1]],
    ['step 2, gamma 0.5', { type: 'step', stepSize: 2, gamma: 0.5 }, 10, [1, 1, 0.5, 0.5, 0.25, 0.25, 0.125]],
    ['step 1, default gamma 0.1', { type: 'step', stepSize: 1 }, 10, [1, 0.1, 0.01, 0.001]],
    [
      'step 2, gamma 0.5, warmup 3',
      { type: 'step', stepSize: 2, gamma: 0.5, warmupSteps: 3 },
      10,
      [1 / 3, 2 / 3, 1, 1, 1, 0.5, 0.5, 0.25],
    ],
    ['exponential 0.5', { type: 'exponential', gamma: 0.5 }, 3, [1, 0.5, 0.25, 0.125, 0.0625]],
    ['exponential 2 (growth)', { type: 'exponential', gamma: 2 }, 3, [1, 2, 4, 8, 16]],
    ['exponential 0.5, warmup 2', { type: 'exponential', gamma: 0.5, warmupSteps: 2 }, 10, [0.5, 1, 1, 0.5, 0.25]],
    ['linear over 4 steps', { type: 'linear' }, 4, [1, 0.75, 0.5, 0.25, 0, 0]],
    ['linear, min 0.5', { type: 'linear', minFactor: 0.5 }, 4, [1, 0.875, 0.75, 0.625, 0.5, 0.5, 0.5]],
    [
      'linear, min 0.2, warmup 2',
      { type: 'linear', minFactor: 0.2, warmupSteps: 2 },
      6,
      [0.5, 1, 1, 0.8, 0.6, 0.4, 0.2, 0.2],
    ],
  ])('%s: known factors at every step', (_, schedule, total, factors) => {
    expectClose(
      factors.map((_, t) => learningRateFactor(schedule, t, total)),
      factors,
      EXACT,
      schedule.type,
    );
  });

  it('starts every schedule proper at 1 and holds cosine and linear at their floor past the end', () => {
    for (const schedule of [
      { type: 'constant' },
      { type: 'step', stepSize: 3, gamma: 0.7 },
      { type: 'exponential', gamma: 0.9 },
      { type: 'cosine', minFactor: 0.3 },
      { type: 'linear', minFactor: 0.3 },
    ] as ScheduleOptions[]) {
      for (const warmupSteps of [0, 1, 5]) {
        const s = { ...schedule, warmupSteps };
        expectClose([learningRateFactor(s, warmupSteps, 20)], [1], EXACT, `${s.type} after warmup ${warmupSteps}`);
        if (s.type === 'cosine' || s.type === 'linear') {
          const ends = [20, 21, 50, 1000].map((t) => learningRateFactor(s, t, 20));
          expectClose(ends, [0.3, 0.3, 0.3, 0.3], EXACT, `${s.type} past the end`);
        }
      }
    }
  });
});

describe('clipByGlobalNorm', () => {
  it('scales down gradients above the limit', () => {
    const grads = Float64Array.of(3, -4);
    const { norm, scale } = clipByGlobalNorm(grads, 1);
    expect(norm).toBe(5);
    expectClose([scale], [1 / (5 + 1e-6)], EXACT, 'scale');
    expectClose(grads, [3 / (5 + 1e-6), -4 / (5 + 1e-6)], EXACT, 'grads');
  });

  it('leaves gradients within the limit, and zero gradients, untouched', () => {
    const grads = Float64Array.of(3, -4);
    expect(clipByGlobalNorm(grads, 10)).toEqual({ norm: 5, scale: 1 });
    expect(Array.from(grads)).toEqual([3, -4]);
    expect(clipByGlobalNorm(new Float64Array(3), 1)).toEqual({ norm: 0, scale: 1 });
  });
});

describe('expectClose', () => {
  it('accepts values within atol + rtol·|ref| and names the worst element otherwise', () => {
    expectClose([1.04, 0], [1, 0], { atol: 0, rtol: 0.05 }, 'within');
    expect(() => expectClose([1, 2.5, 3.1], [1, 2, 3], { atol: 0.01, rtol: 0 }, 'out')).toThrow(
      /out: element 1 is 2\.5/,
    );
    expect(() => expectClose([Number.NaN], [1], { atol: 1, rtol: 1 }, 'nan')).toThrow(/nan: element 0/);
    expect(() => expectClose([1], [1, 2], { atol: 1, rtol: 1 }, 'length')).toThrow(/length/);
  });
});
