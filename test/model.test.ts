// The whole network on the GPU (forward, loss, backward through the fused kernels, update) against the float64
// reference in test/reference/mlp.ts, over every activation and loss and on awkward widths and batches.
import { describe, expect, it } from 'vitest';
import type { Activation, LayerParameters, Loss } from '../src/core/types.js';
import { ACTIVATIONS } from '../src/core/types.js';
import { expectClose, randomArray } from './reference/check.js';
import { lossAndGradients, predict, type RefSpec, toRefLayers } from './reference/mlp.js';
import { useEngine } from './gpu.js';

const engine = await useEngine();

// f32 against f64 through a few layers: gradients are O(0.01–1), errors O(1e-6) relative.
const TOL = { atol: 2e-5, rtol: 2e-4 };

function makeTargets(loss: Loss, indices: boolean, b: number, n: number, seed: number): Float32Array | Uint32Array {
  if (indices) return Uint32Array.from({ length: b }, (_, i) => (i * 5 + seed) % n);
  const r = randomArray(b * n, seed);
  if (loss === 'mse') return Float32Array.from(r);
  if (loss === 'binary_cross_entropy') return Float32Array.from(r, (v) => (v > 0 ? 1 : 0));
  // Probability rows for cross_entropy.
  const y = Float32Array.from(r, (v) => Math.abs(v) + 0.01);
  for (let i = 0; i < b; i++) {
    const row = y.subarray(i * n, (i + 1) * n);
    const s = row.reduce((a, v) => a + v, 0);
    row.forEach((v, k) => {
      row[k] = v / s;
    });
  }
  return y;
}

async function compare(spec: RefSpec, b: number, indices = false, seed = 1) {
  const model = engine.mlp({ ...spec, seed });
  try {
    const x = Float32Array.from(randomArray(b * spec.sizes[0], seed + 100, 2));
    const y = makeTargets(spec.loss, indices, b, spec.sizes[spec.sizes.length - 1], seed);
    const params = toRefLayers(await model.getParameters());
    const ref = lossAndGradients(spec, params, x, y, b);
    const gpu = await model.lossAndGradients(x, y);
    expectClose([gpu.loss], [ref.loss], TOL, 'loss');
    gpu.gradients.forEach((g, j) => {
      expectClose(g.weight, ref.gradients[j].weight, TOL, `dweight ${j}`);
      expectClose(g.bias, ref.gradients[j].bias, TOL, `dbias ${j}`);
    });
    expectClose(await model.predict(x), predict(spec, params, x, b), TOL, 'predict');
  } finally {
    model.dispose();
  }
}

const OUTPUTS: { loss: Loss; last: Activation; indices?: boolean }[] = [
  { loss: 'cross_entropy', last: 'identity' },
  { loss: 'cross_entropy', last: 'identity', indices: true },
  { loss: 'binary_cross_entropy', last: 'identity' },
  { loss: 'mse', last: 'identity' },
  { loss: 'mse', last: 'sigmoid' },
  { loss: 'mse', last: 'softmax' },
  { loss: 'mse', last: 'tanh' },
  { loss: 'mse', last: 'gelu' },
];

describe('lossAndGradients and predict match the reference', () => {
  describe.each(ACTIVATIONS)('hidden %s', (hidden) => {
    it.each(OUTPUTS)('$loss, last $last, indices $indices', async ({ loss, last, indices }) => {
      await compare({ sizes: [3, 7, 5, 3], activations: [hidden, hidden, last], loss }, 5, indices);
    });
  });

  it.each([
    { sizes: [1, 3, 1], activations: ['tanh', 'identity'], loss: 'binary_cross_entropy', b: 1 },
    { sizes: [7, 33, 3], activations: ['relu', 'identity'], loss: 'cross_entropy', b: 1000, indices: true },
    { sizes: [257, 7, 1], activations: ['gelu', 'identity'], loss: 'mse', b: 5 },
    { sizes: [33, 257, 7], activations: ['silu', 'identity'], loss: 'cross_entropy', b: 5 },
    { sizes: [3, 1, 1, 3], activations: ['elu', 'softplus', 'identity'], loss: 'cross_entropy', b: 33 },
    { sizes: [5, 65, 66, 2], activations: ['leaky_relu', 'softmax', 'sigmoid'], loss: 'mse', b: 70 },
  ] as (RefSpec & { b: number; indices?: boolean })[])('awkward shape $sizes at batch $b', async (c) => {
    await compare(c, c.b, c.indices, 3);
  });
});

describe('training steps', () => {
  const spec: RefSpec = { sizes: [4, 9, 3], activations: ['tanh', 'identity'], loss: 'cross_entropy' };
  const b = 6;
  const x = Float32Array.from(randomArray(b * 4, 7));
  const y = Uint32Array.from([0, 1, 2, 2, 1, 0]);

  it('a batch gradient is the mean of per-example gradients', async () => {
    const model = engine.mlp({ ...spec, seed: 2 });
    const whole = await model.lossAndGradients(x, y);
    const sum = whole.gradients.map((g) => ({
      weight: new Float64Array(g.weight.length),
      bias: new Float64Array(g.bias.length),
    }));
    let loss = 0;
    for (let i = 0; i < b; i++) {
      const one = await model.lossAndGradients(x.slice(i * 4, (i + 1) * 4), y.slice(i, i + 1));
      loss += one.loss / b;
      one.gradients.forEach((g, j) => {
        g.weight.forEach((v, k) => {
          sum[j].weight[k] += v / b;
        });
        g.bias.forEach((v, k) => {
          sum[j].bias[k] += v / b;
        });
      });
    }
    expectClose([whole.loss], [loss], { atol: 1e-6, rtol: 1e-5 }, 'loss');
    whole.gradients.forEach((g, j) => {
      expectClose(g.weight, sum[j].weight, { atol: 1e-6, rtol: 1e-5 }, `dweight ${j}`);
      expectClose(g.bias, sum[j].bias, { atol: 1e-6, rtol: 1e-5 }, `dbias ${j}`);
    });
    model.dispose();
  });

  it('sgdStep moves θ by −η·∇R in one submit, with no readback', async () => {
    const model = engine.mlp({ ...spec, seed: 3 });
    const before = await model.getParameters();
    const { loss, gradients } = await model.lossAndGradients(x, y);
    const queue = engine.device.queue;
    const submit = queue.submit.bind(queue);
    let submits = 0;
    queue.submit = (buffers) => {
      submits++;
      submit(buffers);
    };
    try {
      model.sgdStep(x, y, 0.5);
    } finally {
      queue.submit = submit;
    }
    expect(submits).toBe(1);
    const after = await model.getParameters();
    after.forEach((p, j) => {
      expectClose(
        p.weight,
        before[j].weight.map((w, k) => w - 0.5 * gradients[j].weight[k]),
        { atol: 1e-6, rtol: 1e-5 },
        `W${j}`,
      );
      expectClose(
        p.bias,
        before[j].bias.map((w, k) => w - 0.5 * gradients[j].bias[k]),
        { atol: 1e-6, rtol: 1e-5 },
        `b${j}`,
      );
    });
    expectClose([await model.lastLoss()], [loss], { atol: 1e-6, rtol: 1e-5 }, 'loss kept on the GPU');
    model.dispose();
  });

  it('setParameters and getParameters round-trip in torch.nn.Linear layout', async () => {
    const model = engine.mlp({ sizes: [3, 5, 2], activations: ['relu', 'identity'], loss: 'mse' });
    const params: LayerParameters[] = [
      { weight: Float32Array.from({ length: 15 }, (_, i) => i), bias: Float32Array.from([1, 2, 3, 4, 5]) },
      { weight: Float32Array.from({ length: 10 }, (_, i) => -i), bias: Float32Array.from([7, 8]) },
    ];
    model.setParameters(params);
    expect(await model.getParameters()).toEqual(params);
    // out = W2·relu(W1·x + b1) + b2 for x = [1, 0, 0]: W1 column 0 is [0, 3, 6, 9, 12].
    const out = await model.predict(Float32Array.from([1, 0, 0]));
    const h = [0, 3, 6, 9, 12].map((v, i) => Math.max(0, v + params[0].bias[i]));
    const ref = [0, 1].map((o) => params[1].bias[o] + h.reduce((s, v, i) => s + v * params[1].weight[o * 5 + i], 0));
    expect(Array.from(out)).toEqual(ref);
    model.dispose();
  });

  it('starts from a seeded He initialisation for relu layers', async () => {
    const a = await engine
      .mlp({ sizes: [400, 300, 10], activations: ['relu', 'identity'], loss: 'cross_entropy', seed: 5 })
      .getParameters();
    const b2 = await engine
      .mlp({ sizes: [400, 300, 10], activations: ['relu', 'identity'], loss: 'cross_entropy', seed: 5 })
      .getParameters();
    expect(a[0].weight).toEqual(b2[0].weight);
    const w = a[0].weight;
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / 400), 3);
    expect(a[0].bias.every((v) => v === 0)).toBe(true);
  });
});
