// fit() and evaluate(): GPU-resident data, gathered mini-batches, optimizers and schedules wired as the float64
// reference says, micro-batching, sampling, determinism, and no readback inside the loop.
import { describe, expect, it } from 'vitest';
import { identity, withReplacement } from '../../src/data/gpu-dataset.js';
import { Random } from '../../src/core/random.js';
import { scheduleFactor } from '../../src/nn/schedules.js';
import type { OptimizerOptions, ScheduleOptions } from '../../src/core/types.js';
import { expectClose, randomArray } from '../reference/check.js';
import { lossAndGradients, predict, type RefSpec, toRefLayers } from '../reference/mlp.js';
import { clipByGlobalNorm, RefOptimizer } from '../reference/optimizers.js';
import { learningRateFactor } from '../reference/schedules.js';
import { useEngine } from '../gpu.js';

const engine = await useEngine();
const spec: RefSpec = { sizes: [3, 5, 2], activations: ['tanh', 'identity'], loss: 'cross_entropy' };
const n = 10;
const x = Float32Array.from(randomArray(n * 3, 81));
const y = Uint32Array.from({ length: n }, (_, i) => (i * 3) % 2);

function flatten(layers: { weight: ArrayLike<number>; bias: ArrayLike<number> }[]): Float64Array {
  return Float64Array.from(layers.flatMap((l) => [...Array.from(l.weight), ...Array.from(l.bias)]));
}

describe('fit follows the reference step by step', () => {
  const cases: { optimizer: OptimizerOptions; schedule?: ScheduleOptions; clipNorm?: number }[] = [
    { optimizer: { type: 'sgd', learningRate: 0.5, momentum: 0.9, nesterov: true, weightDecay: 1e-3 } },
    { optimizer: { type: 'adam', learningRate: 0.05 }, schedule: { type: 'step', stepSize: 2, gamma: 0.5 } },
    {
      optimizer: { type: 'adamw', learningRate: 0.05, weightDecay: 0.1 },
      schedule: { type: 'cosine', warmupSteps: 2 },
      clipNorm: 0.1,
    },
  ];
  it.each(cases)(
    '$optimizer.type, schedule $schedule.type, clip $clipNorm',
    async ({ optimizer, schedule, clipNorm }) => {
      const model = engine.mlp({ ...spec, seed: 4 });
      const params = toRefLayers(await model.getParameters());
      const batchSize = 4; // 4, 4, then a partial batch of 2 averaged over its own size
      const epochs = 2;
      const lrs: number[] = [];
      const losses: number[] = [];
      await model.fit(
        { x, y },
        {
          epochs,
          batchSize,
          shuffle: false,
          optimizer,
          schedule,
          clipNorm,
          onStep: (s) => {
            lrs.push(s.learningRate);
            losses.push(s.loss);
          },
        },
      );
      const total = 3 * epochs;
      const ref = new RefOptimizer(optimizer, flatten(params).length);
      const flat = flatten(params);
      for (let t = 0; t < total; t++) {
        const start = (t % 3) * batchSize;
        const rows = Math.min(batchSize, n - start);
        const layers = unflatten(flat);
        const g = lossAndGradients(
          spec,
          layers,
          x.subarray(start * 3, (start + rows) * 3),
          y.subarray(start, start + rows),
          rows,
        );
        expectClose([losses[t]], [g.loss], { atol: 1e-5, rtol: 1e-4 }, `loss of step ${t}`);
        const grads = flatten(g.gradients);
        if (clipNorm) clipByGlobalNorm(grads, clipNorm);
        const lr = optimizer.learningRate * (schedule ? learningRateFactor(schedule, t, total) : 1);
        expectClose([lrs[t]], [lr], { atol: 1e-12, rtol: 1e-9 }, `lr of step ${t}`);
        ref.step(flat, grads, lr);
      }
      expectClose(flatten(await model.getParameters()), flat, { atol: 2e-5, rtol: 2e-4 }, 'parameters');
      model.dispose();

      function unflatten(f: Float64Array) {
        let at = 0;
        return params.map((p) => {
          const weight = f.slice(at, (at += p.weight.length));
          const bias = f.slice(at, (at += p.bias.length));
          return { weight, bias };
        });
      }
    },
  );
});

describe('schedules', () => {
  const proper: ScheduleOptions[] = [
    { type: 'constant' },
    { type: 'step', stepSize: 4, gamma: 0.3 },
    { type: 'step', stepSize: 1 },
    { type: 'step', stepSize: 7 },
    { type: 'exponential', gamma: 0.9 },
    { type: 'exponential', gamma: 1.05 },
    { type: 'cosine' },
    { type: 'cosine', minFactor: 0.1 },
    { type: 'cosine', minFactor: 1 },
    { type: 'linear' },
    { type: 'linear', minFactor: 0.25 },
  ];
  const cases = proper.flatMap((schedule) =>
    [undefined, 1, 3, 5].map((warmupSteps) => (warmupSteps === undefined ? schedule : { ...schedule, warmupSteps })),
  );
  it.each(cases)('$type (warmup $warmupSteps) matches the reference at every step', (schedule) => {
    // Fits shorter than, as long as and longer than the warmup, and steps well past the end (resumed runs).
    for (const total of [1, 3, 5, 6, 30]) {
      const ts = Array.from({ length: total + 15 }, (_, t) => t);
      expectClose(
        ts.map((t) => scheduleFactor(schedule, t, total)),
        ts.map((t) => learningRateFactor(schedule, t, total)),
        { atol: 1e-15, rtol: 1e-12 },
        `${JSON.stringify(schedule)} over ${total} steps`,
      );
    }
  });
});

describe('schedules across fit() calls', () => {
  it('with totalSteps, a resumed run continues its schedule where it paused', async () => {
    const schedule: ScheduleOptions = { type: 'cosine', warmupSteps: 1, totalSteps: 6 };
    const optimizer: OptimizerOptions = { type: 'adam', learningRate: 0.1 };
    const model = engine.mlp({ ...spec, seed: 1 });
    const lrs: number[] = [];
    for (let i = 0; i < 2; i++) {
      await model.fit(
        { x, y },
        { batchSize: 4, shuffle: false, optimizer, schedule, onStep: (s) => lrs.push(s.learningRate) },
      );
    }
    expectClose(
      lrs,
      [0, 1, 2, 3, 4, 5].map((t) => 0.1 * learningRateFactor(schedule, t, 6)),
      { atol: 1e-12, rtol: 1e-9 },
      'lr',
    );
    model.dispose();
  });
});

describe('sampling', () => {
  it('shuffling gives a permutation, and the same seed the same one', () => {
    const a = new Random(5).permutation(1000);
    expect(Array.from(a).sort((p, q) => p - q)).toEqual(Array.from(identity(1000)));
    expect(new Random(5).permutation(1000)).toEqual(a);
    expect(new Random(6).permutation(1000)).not.toEqual(a);
  });

  it('sampling with replacement is uniform (chi-square, 20 bins)', () => {
    const bins = 20;
    const draws = withReplacement(20000, new Random(9));
    const counts = new Array(bins).fill(0);
    for (const d of draws) counts[Math.floor((d * bins) / 20000)]++;
    const expected = 20000 / bins;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(43.8); // p = 0.001 for 19 degrees of freedom
    expect(new Set(draws).size).toBeLessThan(20000); // repeats happen
  });

  it('the mean of minibatch gradients over a shuffled epoch of equal batches is the full-batch gradient', async () => {
    const model = engine.mlp({ ...spec, seed: 5 });
    const full = await model.lossAndGradients(x, y);
    const order = new Random(3).permutation(n);
    const mean = full.gradients.map((g) => ({
      weight: new Float64Array(g.weight.length),
      bias: new Float64Array(g.bias.length),
    }));
    for (let b = 0; b < n; b += 5) {
      const idx = order.subarray(b, b + 5);
      const xb = new Float32Array(15);
      idx.forEach((r, i) => {
        xb.set(x.subarray(r * 3, r * 3 + 3), i * 3);
      });
      const g = await model.lossAndGradients(
        xb,
        Uint32Array.from(idx, (r) => y[r]),
      );
      g.gradients.forEach((l, j) => {
        l.weight.forEach((v, k) => {
          mean[j].weight[k] += v / 2;
        });
        l.bias.forEach((v, k) => {
          mean[j].bias[k] += v / 2;
        });
      });
    }
    full.gradients.forEach((g, j) => {
      expectClose(g.weight, mean[j].weight, { atol: 1e-6, rtol: 1e-5 }, `dweight ${j}`);
      expectClose(g.bias, mean[j].bias, { atol: 1e-6, rtol: 1e-5 }, `dbias ${j}`);
    });
    model.dispose();
  });
});

describe('fit behaviour', () => {
  it('uploads the training and validation sets once per fit, not once per epoch', async () => {
    const model = engine.mlp({ ...spec, seed: 1 });
    const queue = engine.device.queue;
    const original = queue.writeBuffer;
    const uploads: string[] = [];
    queue.writeBuffer = function (this: GPUQueue, ...args: Parameters<GPUQueue['writeBuffer']>) {
      if (args[0].label.startsWith('dataset-x')) uploads.push(args[0].label);
      return original.apply(this, args);
    } as GPUQueue['writeBuffer'];
    try {
      const vx = Float32Array.from(randomArray(6 * 3, 82));
      const vy = Uint32Array.from({ length: 6 }, (_, i) => i % 2);
      const history = await model.fit({ x, y }, { epochs: 4, batchSize: 4, validation: { x: vx, y: vy } });
      expect(history.epochs.map((e) => Number.isFinite(e.valLoss))).toEqual([true, true, true, true]);
      expect(uploads.length).toBe(2);
    } finally {
      queue.writeBuffer = original;
      model.dispose();
    }
  });

  const big = 300;
  const bx = Float32Array.from(randomArray(big * 3, 91));
  const by = Uint32Array.from({ length: big }, (_, i) => Number(bx[3 * i] * bx[3 * i + 1] > 0));

  it('the same seed gives the same losses; another seed other losses', async () => {
    const run = async (seed: number) => {
      const model = engine.mlp({ ...spec, seed: 1 });
      const losses: number[] = [];
      await model.fit({ x: bx, y: by }, { epochs: 2, batchSize: 32, seed, onStep: (s) => losses.push(s.loss) });
      model.dispose();
      return losses;
    };
    const a = await run(7);
    expect(a).toHaveLength(20);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
  });

  it('a partial last batch is its own step, or dropped with dropLast', async () => {
    const model = engine.mlp({ ...spec, seed: 1 });
    const rows: number[] = [];
    const h = await model.fit({ x, y }, { batchSize: 4, onStep: (s) => rows.push(s.step) });
    expect(h.steps).toBe(3);
    const h2 = await model.fit({ x, y }, { batchSize: 4, dropLast: true });
    expect(h2.steps).toBe(2);
    model.dispose();
  });

  it('reads back asynchronously: one read per submitted group, not per step', async () => {
    const model = engine.mlp({ ...spec, seed: 1 });
    // Counted as reads, not maps: on a CPU adapter in Node a paced read may probe with several maps.
    const runtime = model.network.runtime;
    const original = runtime.readBack;
    let reads = 0;
    runtime.readBack = function (this: typeof runtime, ...args: Parameters<typeof original>) {
      reads++;
      return original.apply(this, args);
    };
    try {
      const h = await model.fit({ x: bx, y: by }, { epochs: 2, batchSize: 10, stepsPerSubmit: 10 });
      expect(h.steps).toBe(60);
      expect(reads).toBe(6 + 1); // one per group of 10 steps, plus the checkpoint taken at the start
    } finally {
      runtime.readBack = original;
    }
    model.dispose();
  });

  it('predict may run while fit does; other calls say fit is running', async () => {
    const model = engine.mlp({ ...spec, seed: 1 });
    const predictions: Promise<Float32Array>[] = [];
    let refused: unknown;
    await model.fit(
      { x: bx, y: by },
      {
        epochs: 2,
        batchSize: 30,
        onStep: (s) => {
          if (s.step % 5 === 0) predictions.push(model.predict(bx.subarray(0, 30)));
          if (s.step === 3) {
            try {
              model.sgdStep(bx, by, 0.1);
            } catch (error) {
              refused = error;
            }
          }
        },
      },
    );
    for (const p of await Promise.all(predictions)) expect(p.length).toBe(20);
    expect(String(refused)).toMatch(/sgdStep: fit\(\) is running on this model; await it first/);
    model.dispose();
  });

  it('an AbortSignal stops between steps', async () => {
    const model = engine.mlp({ ...spec, seed: 1 });
    const controller = new AbortController();
    const h = await model.fit(
      { x: bx, y: by },
      {
        epochs: 50,
        batchSize: 10,
        stepsPerSubmit: 1,
        onStep: (s) => {
          if (s.step === 5) controller.abort();
        },
        signal: controller.signal,
      },
    );
    expect(h.aborted).toBe(true);
    expect(h.steps).toBeLessThan(20);
    model.dispose();
  });

  it('batches split into micro-batches give the whole batch gradient, and the same training', async () => {
    const whole = engine.mlp({ ...spec, seed: 2 });
    const split = engine.mlp({ ...spec, seed: 2, microBatchSize: 7 });
    const a = await whole.lossAndGradients(bx, by);
    const b = await split.lossAndGradients(bx, by);
    expectClose([b.loss], [a.loss], { atol: 1e-6, rtol: 1e-5 }, 'loss');
    a.gradients.forEach((g, j) => {
      expectClose(b.gradients[j].weight, g.weight, { atol: 1e-6, rtol: 1e-4 }, `dweight ${j}`);
      expectClose(b.gradients[j].bias, g.bias, { atol: 1e-6, rtol: 1e-4 }, `dbias ${j}`);
    });
    const opts = { epochs: 2, batchSize: 100, seed: 3, optimizer: { type: 'adam', learningRate: 0.01 } as const };
    const la: number[] = [];
    const lb: number[] = [];
    await whole.fit({ x: bx, y: by }, { ...opts, onStep: (s) => la.push(s.loss) });
    await split.fit({ x: bx, y: by }, { ...opts, onStep: (s) => lb.push(s.loss) });
    expectClose(lb, la, { atol: 1e-5, rtol: 1e-4 }, 'losses');
    expectClose(
      flatten(await split.getParameters()),
      flatten(await whole.getParameters()),
      { atol: 1e-5, rtol: 1e-4 },
      'parameters',
    );
    expect(split.maxRows).toBe(7);
    whole.dispose();
    split.dispose();
  });

  it('sees values changed in place between calls (uploads are per call, buffers are reused)', async () => {
    const model = engine.mlp({ ...spec, seed: 6 });
    const xs = bx.slice();
    const before = await model.evaluate(xs, by);
    const buffers = engine.memory().buffers;
    xs.fill(0);
    const after = await model.evaluate(xs, by);
    expect(engine.memory().buffers).toBe(buffers);
    expect(after.loss).not.toBeCloseTo(before.loss, 3);
    const ref = await model.lossAndGradients(xs, by);
    expectClose([after.loss], [ref.loss], { atol: 1e-6, rtol: 1e-5 }, 'loss on the new values');
    model.dispose();
  });

  it('evaluate gives the mean loss and accuracy of the reference over batches', async () => {
    const model = engine.mlp({ ...spec, seed: 6 });
    const params = toRefLayers(await model.getParameters());
    const ref = lossAndGradients(spec, params, bx, by, big);
    const p = predict(spec, params, bx, big);
    let hits = 0;
    for (let i = 0; i < big; i++) hits += Number((p[2 * i + 1] > p[2 * i] ? 1 : 0) === by[i]);
    for (const batchSize of [big, 64, 7, 1]) {
      const e = await model.evaluate(bx, by, { batchSize });
      expectClose([e.loss], [ref.loss], { atol: 1e-5, rtol: 1e-5 }, `loss (batch ${batchSize})`);
      expect(e.accuracy).toBeCloseTo(hits / big, 5);
    }
    model.dispose();
  });
});
