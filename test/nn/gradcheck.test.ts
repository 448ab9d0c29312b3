// The gradient check (src/nn/gradcheck.ts, src/nn/cpu-mlp.ts, Mlp.checkGradients): its float64 forward pass
// against the reference and the GPU, its central differences against the reference's exact gradients, and the
// public call on the GPU: it passes on every activation and loss, fails on a planted error, changes nothing.
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, type Activation, type LayerParameters, type Loss, type Targets } from '../../src/core/types.js';
import type { Mlp } from '../../src/model.js';
import { CpuMlp } from '../../src/nn/cpu-mlp.js';
import { checkGradients, gradientCheckOptions } from '../../src/nn/gradcheck.js';
import { useEngine } from '../gpu.js';
import { expectClose, randomArray } from '../reference/check.js';
import * as ref from '../reference/mlp.js';

const engine = await useEngine();

type Spec = { sizes: number[]; activations: Activation[]; loss: Loss };
type Output = { loss: Loss; last: Activation; indices?: boolean };

const OUTPUTS: Output[] = [
  { loss: 'cross_entropy', last: 'identity' },
  { loss: 'cross_entropy', last: 'identity', indices: true },
  { loss: 'binary_cross_entropy', last: 'identity' },
  { loss: 'mse', last: 'identity' },
];
const label = (o: Output) => `${o.loss}${o.indices ? ' (class indices)' : ''}`;

function batch(spec: Spec, b: number, indices = false, seed = 1): { x: Float32Array; y: Targets } {
  const n = spec.sizes[spec.sizes.length - 1];
  const x = Float32Array.from(randomArray(b * spec.sizes[0], seed, 2));
  if (indices) return { x, y: Uint32Array.from({ length: b }, (_, i) => (i * 7 + seed) % n) };
  const r = randomArray(b * n, seed + 1);
  if (spec.loss === 'mse') return { x, y: Float32Array.from(r) };
  if (spec.loss === 'binary_cross_entropy') return { x, y: Float32Array.from(r, (v) => (v > 0 ? 1 : 0)) };
  const y = Float32Array.from(r, (v) => Math.abs(v) + 0.01);
  for (let i = 0; i < b; i++) {
    const row = y.subarray(i * n, (i + 1) * n);
    const s = row.reduce((a, v) => a + v, 0);
    row.forEach((v, k) => {
      row[k] = v / s;
    });
  }
  return { x, y };
}

/** Seeded parameters as He/Xavier would scale them, biases nonzero too. */
function parameters(spec: Spec, seed: number): LayerParameters[] {
  return spec.activations.map((_, l) => {
    const [nin, nout] = [spec.sizes[l], spec.sizes[l + 1]];
    return {
      weight: Float32Array.from(randomArray(nout * nin, seed + 2 * l, Math.sqrt(3 / nin))),
      bias: Float32Array.from(randomArray(nout, seed + 2 * l + 1, 0.3)),
    };
  });
}

const SETTINGS = gradientCheckOptions({}, 'test');
const bits = (params: LayerParameters[]) =>
  params.flatMap((p) => [...new Uint32Array(p.weight.buffer), ...new Uint32Array(p.bias.buffer)]);

describe('the float64 forward pass', () => {
  describe.each(ACTIVATIONS)('hidden %s', (hidden) => {
    it.each([...OUTPUTS, { loss: 'mse' as Loss, last: hidden }])('$loss, last $last, indices $indices', (o) => {
      const spec: Spec = { sizes: [3, 6, 5, 4], activations: [hidden, hidden, o.last], loss: o.loss };
      const { x, y } = batch(spec, 7, o.indices);
      const params = parameters(spec, 5);
      const cpu = new CpuMlp(spec, params, x, y, 7);
      const layers = ref.toRefLayers(params);
      expectClose([cpu.loss], [ref.lossAndGradients(spec, layers, x, y, 7).loss], { atol: 1e-14, rtol: 1e-12 }, 'loss');
      expectClose(cpu.outputs(), ref.predict(spec, layers, x, 7), { atol: 1e-14, rtol: 1e-12 }, 'outputs');
    });
  });

  it.each([
    { sizes: [3, 7, 5, 3], activations: ['gelu', 'softmax', 'identity'], loss: 'cross_entropy' },
    { sizes: [2, 9, 1], activations: ['silu', 'identity'], loss: 'binary_cross_entropy' },
    { sizes: [4, 5, 3], activations: ['elu', 'sigmoid'], loss: 'mse' },
  ] as Spec[])('matches the GPU on $sizes $loss to float32 precision', async (spec) => {
    const model = engine.mlp({ ...spec, seed: 2 });
    try {
      const { x, y } = batch(spec, 9);
      const cpu = new CpuMlp(spec, await model.getParameters(), x, y, 9);
      const { loss } = await model.lossAndGradients(x, y);
      expectClose([loss], [cpu.loss], { atol: 1e-6, rtol: 1e-5 }, 'loss');
      expectClose(await model.predict(x), cpu.outputs(), { atol: 1e-6, rtol: 1e-5 }, 'predict');
    } finally {
      model.dispose();
    }
  });
});

describe('central differences against the reference gradients (no GPU)', () => {
  describe.each(ACTIVATIONS)('hidden %s', (hidden) => {
    it.each([...OUTPUTS, { loss: 'mse' as Loss, last: hidden }])('$loss, last $last, indices $indices', (o) => {
      const spec: Spec = { sizes: [3, 6, 5, 4], activations: [hidden, hidden, o.last], loss: o.loss };
      const { x, y } = batch(spec, 7, o.indices, 3);
      const params = parameters(spec, 9);
      const exact = ref.lossAndGradients(spec, ref.toRefLayers(params), x, y, 7).gradients;
      // Rounded to float32: the check then sees only float32 rounding, a few 1e-8.
      const f32 = exact.map((g) => ({ weight: Float32Array.from(g.weight), bias: Float32Array.from(g.bias) }));
      const result = checkGradients(spec, params, f32, x, y, 7, SETTINGS);
      expect(result.ok).toBe(true);
      expect(result.maxRelativeError).toBeLessThan(1e-6);
      expect(result.checked + result.skipped).toBeGreaterThan(0);
    });
  });

  it('counts a non-finite gradient as Infinity', () => {
    const spec: Spec = { sizes: [2, 3, 2], activations: ['tanh', 'identity'], loss: 'mse' };
    const { x, y } = batch(spec, 4);
    const params = parameters(spec, 1);
    const grads = ref.lossAndGradients(spec, ref.toRefLayers(params), x, y, 4).gradients.map((g) => ({
      weight: Float32Array.from(g.weight),
      bias: Float32Array.from(g.bias),
    }));
    grads[1].bias[1] = Number.NaN;
    const result = checkGradients(spec, params, grads, x, y, 4, SETTINGS);
    expect(result).toMatchObject({ ok: false, maxRelativeError: Infinity });
    expect(result.layers[1].bias).toBe(Infinity);
    expect(result.layers[0].weight).toBeLessThan(1e-6);
  });
});

async function withModel<T>(spec: Spec & { microBatchSize?: number }, run: (m: Mlp) => Promise<T>): Promise<T> {
  const model = engine.mlp({ ...spec, seed: 4 });
  try {
    return await run(model);
  } finally {
    model.dispose();
  }
}

describe('model.checkGradients on the GPU', () => {
  describe.each(ACTIVATIONS)('hidden %s', (hidden) => {
    it.each(OUTPUTS)('passes with $loss, indices $indices', async (o) => {
      const spec: Spec = { sizes: [3, 6, 5, 3], activations: [hidden, hidden, o.last], loss: o.loss };
      const { x, y } = batch(spec, 6, o.indices);
      const result = await withModel(spec, (m) => m.checkGradients(x, y));
      expect(result.ok, `${label(o)}: ${JSON.stringify(result)}`).toBe(true);
    });
  });

  it.each(ACTIVATIONS)('passes with mse on a %s last layer', async (last) => {
    const spec: Spec = { sizes: [2, 5, 4], activations: ['tanh', last], loss: 'mse' };
    const { x, y } = batch(spec, 5);
    const result = await withModel(spec, (m) => m.checkGradients(x, y));
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  it.each([
    { sizes: [3, 5, 2], activations: ['relu', 'identity'], loss: 'cross_entropy', b: 1 },
    { sizes: [1, 7, 3], activations: ['gelu', 'identity'], loss: 'cross_entropy', b: 13, indices: true },
    { sizes: [1, 1, 1], activations: ['sigmoid', 'identity'], loss: 'binary_cross_entropy', b: 3 },
    { sizes: [5, 9, 2], activations: ['softmax', 'softplus'], loss: 'mse', b: 11, microBatchSize: 4 },
  ] as (Spec & { b: number; indices?: boolean; microBatchSize?: number })[])(
    'passes on $sizes at batch $b (micro-batch $microBatchSize)',
    async (c) => {
      const { x, y } = batch(c, c.b, c.indices, 2);
      const result = await withModel(c, (m) => m.checkGradients(x, y, { samples: 1000 }));
      expect(result.ok, JSON.stringify(result)).toBe(true);
      // samples above every tensor's size: every parameter is checked.
      const total = c.activations.reduce((n, _, l) => n + (c.sizes[l] + 1) * c.sizes[l + 1], 0);
      expect(result.checked + result.skipped).toBe(total);
    },
  );

  it('passes where the rows are fitted so well that s − y is tiny beside s and y', async () => {
    // Large last-layer weights and each row's predicted class as its target: s − y cancels, and float32 gets
    // it only to a few units of s. Measured against the entries alone (not their mass at the output), the
    // GPU's correct gradients here read errors of 3e-2.
    const spec: Spec = { sizes: [3, 8, 4], activations: ['tanh', 'identity'], loss: 'cross_entropy' };
    const params = parameters(spec, 3);
    params[1].weight.forEach((w, i) => {
      params[1].weight[i] = 400 * w;
    });
    const { x } = batch(spec, 64);
    await withModel(spec, async (m) => {
      m.setParameters(params);
      const p = await m.predict(x);
      const y = Uint32Array.from({ length: 64 }, (_, r) => {
        const row = [...p.subarray(4 * r, 4 * r + 4)];
        return row.indexOf(Math.max(...row));
      });
      expect((await m.lossAndGradients(x, y)).loss).toBeLessThan(0.05);
      const result = await m.checkGradients(x, y);
      expect(result.ok, JSON.stringify(result)).toBe(true);
    });
  });

  it('skips parameters whose ±h moves a relu unit across 0, and still passes', async () => {
    // A row of zeros meets zero biases: that row's first-layer pre-activations are exactly 0, so moving a
    // first-layer bias crosses relu's kink and the difference is no derivative.
    const spec: Spec = { sizes: [2, 4, 3], activations: ['relu', 'identity'], loss: 'cross_entropy' };
    const { x, y } = batch(spec, 5, true);
    x.fill(0, 0, 2);
    const result = await withModel(spec, (m) => m.checkGradients(x, y));
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.skipped).toBe(4);
    expect(result.layers[0].bias).toBe(0);
    expect(result.checked).toBe(8 + 12 + 3);
  });

  it('draws `samples` per tensor, the same ones for the same seed', async () => {
    const spec: Spec = { sizes: [16, 12, 3], activations: ['tanh', 'identity'], loss: 'mse' };
    const { x, y } = batch(spec, 8);
    await withModel(spec, async (m) => {
      const a = await m.checkGradients(x, y, { samples: 5, seed: 7 });
      expect(a.checked).toBe(5 + 5 + 5 + 3);
      expect(await m.checkGradients(x, y, { samples: 5, seed: 7 })).toEqual(a);
      expect((await m.checkGradients(x, y, { samples: 5, seed: 8 })).layers).not.toEqual(a.layers);
    });
  });

  describe('fails when a gradient is wrong', () => {
    const spec: Spec = { sizes: [4, 8, 6, 3], activations: ['silu', 'tanh', 'identity'], loss: 'cross_entropy' };

    it.each([
      { layer: 0, tensor: 'weight' },
      { layer: 1, tensor: 'bias' },
      { layer: 2, tensor: 'weight' },
    ] as const)('layer $layer $tensor scaled by 1.01', async ({ layer, tensor }) => {
      const { x, y } = batch(spec, 10);
      const result = await withModel(spec, async (m) => {
        // Plant the error where the GPU's gradients come back.
        const original = m.network.lossAndGradients.bind(m.network);
        m.network.lossAndGradients = async (...args) => {
          const out = await original(...args);
          for (let i = 0; i < out.gradients[layer][tensor].length; i++) out.gradients[layer][tensor][i] *= 1.01;
          return out;
        };
        return m.checkGradients(x, y);
      });
      expect(result.ok).toBe(false);
      const planted = result.layers[layer][tensor];
      expect(planted).toBe(result.maxRelativeError);
      // |1.01g − g| / (2.01|g|) for entries above the floors.
      expect(planted).toBeCloseTo(0.01 / 2.01, 4);
      result.layers.forEach((e, l) => {
        for (const t of ['weight', 'bias'] as const) {
          if (l !== layer || t !== tensor) expect(e[t]).toBeLessThan(result.tolerance);
        }
      });
    });
  });

  it('leaves parameters and optimizer state exactly as they were', async () => {
    const spec: Spec = { sizes: [3, 5, 2], activations: ['relu', 'identity'], loss: 'cross_entropy' };
    const { x, y } = batch(spec, 8, true);
    await withModel(spec, async (m) => {
      await m.fit({ x, y }, { epochs: 2, batchSize: 4, optimizer: { type: 'adam', learningRate: 1e-2 } });
      const params = bits(await m.getParameters());
      const saved = await m.save({ optimizer: true });
      const steps = m.stepCount;
      expect((await m.checkGradients(x, y)).ok).toBe(true);
      expect(bits(await m.getParameters())).toEqual(params);
      expect(await m.save({ optimizer: true })).toEqual(saved);
      expect(m.stepCount).toBe(steps);
    });
  });

  it('refuses bad options, a bad batch, and a running fit, naming what was expected', async () => {
    const spec: Spec = { sizes: [3, 5, 2], activations: ['relu', 'identity'], loss: 'cross_entropy' };
    const { x, y } = batch(spec, 8, true);
    await withModel(spec, async (m) => {
      const bad: [unknown, RegExp][] = [
        [{ epsilon: 0 }, /epsilon must be a finite number > 0, got 0/],
        [{ epsilon: -1e-3 }, /epsilon must be a finite number > 0, got -0.001/],
        [{ epsilon: Number.NaN }, /epsilon must be a finite number > 0, got NaN/],
        [{ epsilon: Infinity }, /epsilon must be a finite number > 0, got Infinity/],
        [{ epsilon: '1e-3' }, /epsilon must be a finite number > 0, got "1e-3"/],
        [{ samples: 0 }, /samples must be an integer >= 1, got 0/],
        [{ samples: 2.5 }, /samples must be an integer >= 1, got 2.5/],
        [{ seed: 0.5 }, /seed must be an integer, got 0.5/],
        [null, /options must be an object \{ epsilon\?, samples\?, seed\? \}, got null/],
      ];
      for (const [options, message] of bad) {
        await expect(m.checkGradients(x, y, options as object)).rejects.toThrow(message);
      }
      await expect(m.checkGradients(x.subarray(1), y)).rejects.toThrow(/checkGradients: x must hold/);
      await expect(m.checkGradients(x, new Uint32Array(8).fill(2))).rejects.toThrow(/not a class index in \[0, 2\)/);
      const fit = m.fit({ x, y }, { epochs: 1, batchSize: 4 });
      await expect(m.checkGradients(x, y)).rejects.toThrow(/checkGradients: fit\(\) is running/);
      await fit;
      expect((await m.checkGradients(x, y)).ok).toBe(true);
    });
  });
});
