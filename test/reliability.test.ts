// Bad input, divergence, device loss, memory and shader errors: nothing fails silently, corrupts a model or
// leaks GPU memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as browserEntry from '../src/index.js';
import { createEngine, DivergenceError as PublicDivergenceError } from '../src/node.js';
import { GPU_CHECK_VALUES } from '../src/data/gpu-dataset.js';
import type { Mlp } from '../src/model.js';
import { DivergenceError, ShaderError } from '../src/core/errors.js';
import { Pipelines } from '../src/gpu/pipelines.js';
import { shaderSources } from '../src/gpu/shaders.gen.js';
import { encodeSafetensors } from '../src/io/safetensors.js';
import type { MlpOptions, OptimizerOptions } from '../src/core/types.js';
import { randomArray } from './reference/check.js';
import { loseDeviceAt, useEngine } from './gpu.js';

const engine = await useEngine();
const spec: MlpOptions = { sizes: [3, 6, 4], activations: ['relu', 'identity'], loss: 'cross_entropy', seed: 1 };
const n = 64;
const x = Float32Array.from(randomArray(n * 3, 1));
// Learnable labels: the quadrant of (x0, x1).
const y = Uint32Array.from({ length: n }, (_, i) => Number(x[3 * i] > 0) + 2 * Number(x[3 * i + 1] > 0));
/** The same inputs as bytes (for inputScale). */
const bytes = Uint8Array.from(x, (v) => Math.round((v + 1) * 127.5));

/** Parameters and optimizer state, to show a refused call changed nothing. */
async function state(model: Mlp) {
  const c = await model.network.checkpoint(0);
  return { params: c.params, optimizer: c.optimizer?.state ?? null, steps: model.stepCount };
}

describe('bad input gets a clear error and changes nothing', () => {
  const cases: [string, (m: Mlp) => unknown, ErrorConstructor, RegExp][] = [
    [
      'x length',
      (m) => m.lossAndGradients(new Float32Array(7), y.subarray(0, 2)),
      RangeError,
      /x must hold n x 3 values .* got 7/,
    ],
    ['empty batch', (m) => m.sgdStep(new Float32Array(0), new Uint32Array(0), 0.1), RangeError, /n >= 1.* got 0/],
    [
      'x type',
      (m) => m.predict([1, 2, 3] as unknown as Float32Array),
      TypeError,
      /x must be a Float32Array, got \[1,2,3\]/,
    ],
    ['y length', (m) => m.sgdStep(x, y.subarray(0, 5), 0.1), RangeError, /y must hold 64 class indices .* got 5/],
    [
      'class index',
      (m) =>
        m.sgdStep(
          x,
          Uint32Array.from(y, (v, i) => (i === 9 ? 4 : v)),
          0.1,
        ),
      RangeError,
      /y\[9\] = 4 is not a class index in \[0, 4\)/,
    ],
    [
      'NaN input',
      (m) =>
        m.sgdStep(
          Float32Array.from(x, (v, i) => (i === 5 ? Number.NaN : v)),
          y,
          0.1,
        ),
      RangeError,
      /x must be finite, got NaN at row 1, column 2/,
    ],
    [
      'Inf target',
      (m) => m.fit({ x, y: Float32Array.from({ length: n * 4 }, (_, i) => (i === 8 ? Infinity : 0)) }),
      RangeError,
      /y must be finite, got Infinity at row 2, column 0/,
    ],
    ['learning rate', (m) => m.sgdStep(x, y, Number.NaN), TypeError, /learningRate must be a finite number, got NaN/],
    ['batch size 0', (m) => m.fit({ x, y }, { batchSize: 0 }), RangeError, /batchSize must be an integer >= 1, got 0/],
    [
      'batch size 2.5',
      (m) => m.fit({ x, y }, { batchSize: 2.5 }),
      RangeError,
      /batchSize must be an integer >= 1, got 2.5/,
    ],
    [
      'epochs type',
      (m) => m.fit({ x, y }, { epochs: '3' as unknown as number }),
      RangeError,
      /epochs must be an integer >= 1, got "3"/,
    ],
    [
      'optimizer name',
      (m) => m.fit({ x, y }, { optimizer: { type: 'lbfgs' } as never }),
      TypeError,
      /type "lbfgs" is not one of sgd, adam, adamw/,
    ],
    [
      'beta',
      (m) => m.fit({ x, y }, { optimizer: { type: 'adam', learningRate: 1, beta1: 1 } }),
      RangeError,
      /beta1 must be in \[0, 1\), got 1/,
    ],
    [
      'schedule',
      (m) => m.fit({ x, y }, { schedule: { type: 'warp' } as never }),
      TypeError,
      /schedule: type must be one of/,
    ],
    ['callback', (m) => m.fit({ x, y }, { onStep: 5 as never }), TypeError, /onStep must be a function, got 5/],
    [
      'inputScale overflowing float32 (fit)',
      (m) => m.fit({ x: bytes, y, inputScale: 1e38 }),
      RangeError,
      /^fit: inputScale 1e\+38 times a byte value up to 255 overflows float32/,
    ],
    [
      'inputScale overflowing float32 (validation)',
      (m) => m.fit({ x, y }, { validation: { x: bytes, y, inputScale: 1e38 } }),
      RangeError,
      /^fit: validation: inputScale 1e\+38 times a byte value up to 255 overflows float32/,
    ],
    [
      'inputScale overflowing float32 (evaluate)',
      (m) => m.evaluate(bytes, y, { inputScale: 1e38 }),
      RangeError,
      /^evaluate: inputScale 1e\+38 times a byte value up to 255 overflows float32/,
    ],
    [
      'parameters',
      (m) => m.setParameters([{ weight: new Float32Array(18), bias: new Float32Array(5) }]),
      TypeError,
      /expected an array of 2/,
    ],
    [
      'parameter NaN',
      (m) =>
        m.setParameters([
          { weight: new Float32Array(18).fill(Number.NaN), bias: new Float32Array(6) },
          { weight: new Float32Array(24), bias: new Float32Array(4) },
        ]),
      RangeError,
      /layer 0 weight\[0\] is NaN, not finite/,
    ],
  ];
  it.each(cases)('%s', async (_label, call, Kind, message) => {
    const model = engine.mlp(spec);
    await model.fit({ x, y }, { batchSize: 16, optimizer: { type: 'adam', learningRate: 0.01 } });
    const before = await state(model);
    let error: unknown;
    try {
      await call(model);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Kind);
    expect(String((error as Error).message)).toMatch(message);
    expect(await state(model)).toEqual(before);
    model.dispose();
  });

  it.each<[string, Partial<MlpOptions>, ErrorConstructor, RegExp]>([
    [
      'unknown activation',
      { activations: ['relu', 'swish' as never] },
      TypeError,
      /activations\[1\] = "swish" is not one of identity, relu/,
    ],
    [
      'unknown loss',
      { loss: 'hinge' as never },
      TypeError,
      /loss "hinge" is not one of cross_entropy, mse, binary_cross_entropy/,
    ],
    [
      'last activation',
      { activations: ['relu', 'softmax'] },
      TypeError,
      /cross_entropy applies its own softmax, so the last activation must be 'identity', got 'softmax'/,
    ],
    ['size 0', { sizes: [3, 0, 4] }, RangeError, /sizes must be at least two integers >= 1/],
    ['activation count', { activations: ['relu'] }, RangeError, /activations must have 2 entries/],
    ['seed', { seed: 1.5 }, TypeError, /seed must be an integer, got 1.5/],
  ])('mlp: %s', (_label, change, Kind, message) => {
    const before = engine.memory();
    expect(() => engine.mlp({ ...spec, ...change })).toThrow(Kind);
    expect(() => engine.mlp({ ...spec, ...change })).toThrow(message);
    expect(engine.memory()).toEqual(before);
  });

  it('a large inputScale whose products stay finite in float32 is accepted', async () => {
    const model = engine.mlp(spec);
    const history = await model.fit(
      { x: bytes, y, inputScale: 1e30 },
      { batchSize: 16, optimizer: { type: 'sgd', learningRate: 0 } },
    );
    expect(history.steps).toBe(4);
    const result = await model.evaluate(bytes, y, { inputScale: 1e30 });
    expect(Number.isNaN(result.loss)).toBe(false);
    model.dispose();
  });

  it('a layer that cannot fit the device names the limit and the sizes', () => {
    const big = engine.limits.maxStorageBufferBindingSize / 4;
    expect(() =>
      engine.mlp({ sizes: [Math.ceil(big / 1000) + 4, 1000, 2], activations: ['relu', 'identity'], loss: 'mse' }),
    ).toThrow(
      /need \d+ bytes in one binding, but this device allows \d+ \(min of maxStorageBufferBindingSize and maxBufferSize\)/,
    );
  });

  it('large datasets are checked for NaN on the GPU', async () => {
    const model = engine.mlp({ sizes: [64, 4, 2], activations: ['relu', 'identity'], loss: 'cross_entropy' });
    const rows = Math.ceil(GPU_CHECK_VALUES / 64) + 1;
    const bx = new Float32Array(rows * 64);
    bx[1000 * 64 + 7] = Number.NEGATIVE_INFINITY;
    const before = engine.memory();
    await expect(model.evaluate(bx, new Uint32Array(rows))).rejects.toThrow(
      /x must be finite, found NaN or Infinity at row 1000 of \d+, column 7/,
    );
    expect(engine.memory()).toEqual(before);
    model.dispose();
  });

  it('large float datasets with float targets train, and a bad target is found on the GPU', async () => {
    // x and y are both checked on the GPU here, y's result at the second aligned slot: an unaligned one made the
    // fit throw and left the engine unusable.
    const model = engine.mlp({ sizes: [64, 4, 2], activations: ['relu', 'identity'], loss: 'mse' });
    const rows = Math.ceil(GPU_CHECK_VALUES / 64) + 1;
    const bx = Float32Array.from({ length: rows * 64 }, (_, i) => (i % 13) / 13 - 0.5);
    const by = Float32Array.from({ length: rows * 2 }, (_, i) => (i % 5) / 5);
    const history = await model.fit({ x: bx, y: by }, { batchSize: 8192 });
    expect(history.steps).toBe(Math.ceil(rows / 8192));
    by[1234 * 2 + 1] = Number.NaN;
    const before = engine.memory();
    await expect(model.fit({ x: bx, y: by }, { batchSize: 8192 })).rejects.toThrow(
      /y must be finite, found NaN or Infinity at row 1234 of \d+, column 1/,
    );
    expect(engine.memory().buffers).toBeLessThanOrEqual(before.buffers);
    engine.mlp(spec).dispose();
    model.dispose();
  });

  it('random calls either work or throw a TypeError/RangeError, and never corrupt the model', async () => {
    const model = engine.mlp(spec);
    const value = fc.oneof(
      fc.float({ noDefaultInfinity: false, noNaN: false }),
      fc.constantFrom(Number.NaN, Infinity, 0, 1),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(value, { maxLength: 40 }),
        fc.array(fc.nat(6), { maxLength: 14 }),
        fc.constantFrom('sgdStep', 'lossAndGradients', 'predict', 'fit'),
        fc.oneof(fc.integer({ min: -2, max: 20 }), fc.double(), fc.constant(undefined)),
        async (xs, ys, method, size) => {
          const before = await state(model);
          const xa = Float32Array.from(xs);
          const ya = Uint32Array.from(ys);
          try {
            if (method === 'sgdStep') model.sgdStep(xa, ya, 0);
            else if (method === 'lossAndGradients') await model.lossAndGradients(xa, ya);
            else if (method === 'predict') await model.predict(xa);
            else await model.fit({ x: xa, y: ya }, { batchSize: size, optimizer: { type: 'sgd', learningRate: 0 } });
          } catch (error) {
            expect(error instanceof TypeError || error instanceof RangeError, String(error)).toBe(true);
            expect(await state(model)).toEqual(before);
          }
        },
      ),
      { numRuns: 150, seed: 2 },
    );
    model.dispose();
  });
});

describe('divergence', () => {
  it('stops with the step, and the model keeps the last finite parameters', async () => {
    const model = engine.mlp({ ...spec, activations: ['relu', 'identity'] });
    const huge = Float32Array.from(x, (v) => v * 1e18);
    let error: unknown;
    try {
      await model.fit(
        { x: huge, y },
        { epochs: 5, batchSize: 8, checkpointEvery: 4, optimizer: { type: 'sgd', learningRate: 1e20 } },
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DivergenceError);
    // The class users can import is the one fit() throws, from both entries.
    expect(error).toBeInstanceOf(PublicDivergenceError);
    expect(error).toBeInstanceOf(browserEntry.DivergenceError);
    expect((error as Error).name).toBe('DivergenceError');
    const d = error as DivergenceError;
    expect(d.message).toMatch(new RegExp(`the loss became (NaN|Infinity) at step ${d.step} \\(epoch \\d+\\)`));
    expect(d.restoredStep).toBeLessThan(d.step);
    const params = await model.getParameters();
    for (const p of params) {
      expect(p.weight.every(Number.isFinite)).toBe(true);
      expect(p.bias.every(Number.isFinite)).toBe(true);
    }
    expect(Number.isFinite((await model.evaluate(x, y)).loss)).toBe(true);
    model.dispose();
  });
});

describe('device loss', () => {
  it('fit recovers on a new device from the last checkpoint and ends exactly where an unbroken run ends', async () => {
    const run = async (loseAt: number | null) => {
      const own = await createEngine();
      try {
        const model = own.mlp({ sizes: [3, 16, 4], activations: ['tanh', 'identity'], loss: 'cross_entropy', seed: 3 });
        const history = await model.fit(
          { x, y },
          {
            epochs: 20,
            batchSize: 16,
            stepsPerSubmit: 2,
            checkpointEvery: 10,
            optimizer: { type: 'adam', learningRate: 0.02 },
            onStep: loseDeviceAt(own, loseAt),
          },
        );
        return { history, params: await model.getParameters(), eval: await model.evaluate(x, y), model, own };
      } catch (error) {
        own.destroy();
        throw error;
      }
    };
    const broken = await run(35);
    const whole = await run(null);
    expect(broken.history.deviceLosses).toBe(1);
    expect(broken.history.redoneSteps).toBeGreaterThan(0);
    expect(broken.history.steps).toBe(80);
    expect(broken.history.epochs.map((e) => e.epoch)).toEqual([...Array(20).keys()]);
    expect(broken.params).toEqual(whole.params);
    expect(broken.eval.accuracy).toBeGreaterThan(0.9);
    // An intentional destroy is not recovered.
    broken.own.destroy();
    whole.own.destroy();
    await expect(broken.model.evaluate(x, y)).rejects.toThrow(/engine was destroyed/);
  });

  it('after a loss outside fit, calls fail with a clear error until recover()', async () => {
    const own = await createEngine();
    try {
      const model = own.mlp(spec);
      own.loseDevice();
      await new Promise((r) => setTimeout(r, 50));
      expect(own.lost).toBe(true);
      await expect(model.predict(x)).rejects.toThrow(/GPU device was lost/);
      await own.recover();
      await expect(model.predict(x)).rejects.toThrow(/lost with this model's parameters/);
      const fresh = own.mlp(spec);
      expect((await fresh.predict(x)).length).toBe(n * 4);
    } finally {
      own.destroy();
    }
  });
});

describe('model files', () => {
  it('a small file of a wide model allocates what its parameters need, no activations before first use', async () => {
    const width = 1_000_000;
    const weight = Float32Array.from({ length: width }, (_, i) => (i % 7) - 3);
    const bias = Float32Array.from({ length: width }, (_, i) => (i % 5) * 0.25);
    const file = encodeSafetensors(
      [
        { name: '0.weight', shape: [width, 1], data: weight },
        { name: '0.bias', shape: [width], data: bias },
      ],
      { format: 'webgrad-mlp', sizes: JSON.stringify([1, width]), activations: '["identity"]', loss: 'mse' },
    );
    // 8 MB of parameters in the file: parameters and gradients are 16 MB on the GPU; 256 rows of activations
    // for a 1,000,000-wide layer would be gigabytes.
    expect(file.length).toBeLessThan(9_000_000);
    const before = engine.memory();
    const model = await engine.load(file);
    try {
      expect(engine.memory().bytes - before.bytes).toBeLessThan(64 * 2 ** 20);
      const out = await model.predict(Float32Array.of(2));
      expect(out.length).toBe(width);
      // Compared in a loop: toEqual on a million elements takes seconds.
      const wrong = out.findIndex((v, i) => v !== weight[i] * 2 + bias[i]);
      expect(wrong, `output ${wrong}`).toBe(-1);
    } finally {
      model.dispose();
    }
  });
});

describe('optimizer state across fit calls', () => {
  const adam: OptimizerOptions = { type: 'adam', learningRate: 0.01 };
  const reordered = { learningRate: 0.01, type: 'adam' } as OptimizerOptions;
  const opts = { epochs: 2, batchSize: 16, seed: 4 };

  /** A model fitted twice (8 steps each), the second time with `second` as the optimizer. */
  async function twice(second: OptimizerOptions) {
    const model = engine.mlp(spec);
    await model.fit({ x, y }, { ...opts, optimizer: adam });
    expect(model.stepCount).toBe(8);
    await model.fit({ x, y }, { ...opts, optimizer: second });
    const result = { steps: model.stepCount, params: await model.getParameters() };
    model.dispose();
    return result;
  }

  it('the same options in another key order keep the state and the step count', async () => {
    const same = await twice({ ...adam });
    const other = await twice(reordered);
    expect(same.steps).toBe(16);
    expect(other.steps).toBe(16);
    expect(other.params).toEqual(same.params);
  });

  it('a saved optimizer resumes after load with the options in another key order', async () => {
    const model = engine.mlp(spec);
    await model.fit({ x, y }, { ...opts, optimizer: adam });
    const file = await model.save({ optimizer: true });
    const loaded = await engine.load(file);
    try {
      expect(loaded.stepCount).toBe(8);
      await loaded.fit({ x, y }, { ...opts, optimizer: reordered });
      await model.fit({ x, y }, { ...opts, optimizer: { ...adam } });
      expect(loaded.stepCount).toBe(16);
      expect(model.stepCount).toBe(16);
      expect(await loaded.getParameters()).toEqual(await model.getParameters());
    } finally {
      model.dispose();
      loaded.dispose();
    }
  });
});

describe('shader errors', () => {
  it('report the WGSL file and line from getCompilationInfo', async () => {
    const broken = `${shaderSources.bias_grad.trimEnd()}\nfn broken() -> f32 {\n  return undefined_name;\n}\n`;
    const line = broken.split('\n').findIndex((l) => l.includes('undefined_name')) + 1;
    const pipelines = new Pipelines(engine.device, { ...shaderSources, bias_grad: broken });
    await expect(pipelines.compileAll()).rejects.toThrow(ShaderError);
    await expect(pipelines.compileAll()).rejects.toThrow(
      new RegExp(`shaders/bias_grad\\.wgsl:${line}:\\d+: error: .*undefined_name`),
    );
  });
});

describe('memory', () => {
  it('2,000 steps, 20 checkpoints, fits and evaluations leave memory where it started; dispose frees everything', async () => {
    const own = await createEngine();
    try {
      const start = own.memory();
      const model = own.mlp({ sizes: [2, 4, 2], activations: ['tanh', 'identity'], loss: 'cross_entropy' });
      const sx = Float32Array.from(randomArray(16, 4));
      const sy = Uint32Array.from({ length: 8 }, (_, i) => i % 2);
      // Warm-up: the first runs make activation buffers, plans and the (at most 4) reusable staging buffers.
      // memory() counts every live buffer exactly, so a leak shows as soon as it happens once: a few thousand
      // steps through every path (submits, checkpoints, host steps, evaluations) are enough.
      await model.fit({ x: sx, y: sy }, { epochs: 100, batchSize: 4, stepsPerSubmit: 64, checkpointEvery: 100 });
      await model.evaluate(sx, sy);
      await model.lossAndGradients(sx, sy);
      await model.fit({ x: sx, y: sy }, { batchSize: 4 });
      const warm = own.memory();
      await model.fit({ x: sx, y: sy }, { epochs: 1000, batchSize: 4, stepsPerSubmit: 64, checkpointEvery: 100 });
      for (let i = 0; i < 20; i++) {
        await model.evaluate(sx, sy);
        await model.lossAndGradients(sx, sy);
        await model.fit({ x: sx, y: sy }, { batchSize: 4 });
      }
      expect(model.stepCount).toBeGreaterThanOrEqual(2_000);
      expect(own.memory()).toEqual(warm);
      model.dispose();
      // The engine's own small buffers (unused bindings, reusable staging) remain; the model's are gone.
      expect(own.memory().buffers).toBeLessThanOrEqual(start.buffers + 4);
      expect(() => model.sgdStep(sx, sy, 0.1)).toThrow(/model was disposed/);
      own.destroy();
      expect(own.memory()).toEqual({ buffers: 0, bytes: 0 });
      expect(() => own.mlp(spec)).toThrow(/engine was destroyed; create a new one/);
    } finally {
      own.destroy();
    }
  }, 300_000);
});
