// Calls that overlap on one model or one engine: a second fit or an evaluate started while fit runs is refused,
// a model disposed during its own call stops it cleanly, and a device lost (or destroyed under the engine)
// while several models train is recovered from by every fit.
import { describe, expect, it } from 'vitest';
import type { MlpOptions } from '../src/core/types.js';
import { DeviceLostError } from '../src/core/errors.js';
import type { Engine } from '../src/engine.js';
import type { Mlp } from '../src/model.js';
import { createEngine } from '../src/node.js';
import type { FitOptions, History } from '../src/train/options.js';
import { randomArray } from './reference/check.js';
import { useEngine } from './gpu.js';

const engine = await useEngine();
const spec: MlpOptions = { sizes: [3, 8, 4], activations: ['tanh', 'identity'], loss: 'cross_entropy', seed: 5 };
const n = 64;
const x = Float32Array.from(randomArray(n * 3, 11));
// Learnable labels: the quadrant of (x0, x1).
const y = Uint32Array.from({ length: n }, (_, i) => Number(x[3 * i] > 0) + 2 * Number(x[3 * i + 1] > 0));
const data = { x, y };
const fitOptions: FitOptions = {
  epochs: 6,
  batchSize: 16,
  stepsPerSubmit: 2,
  checkpointEvery: 4,
  optimizer: { type: 'adam', learningRate: 0.02 },
};

/** What a call did: its value, or the error it threw. */
async function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('overlapping calls on one model', () => {
  it('a second fit started in the same tick is refused, and the first ends as a lone fit ends', async () => {
    const model = engine.mlp(spec);
    const p1 = model.fit(data, fitOptions);
    const p2 = model.fit(data, fitOptions);
    const [first, second] = await Promise.all([outcome(p1), outcome(p2)]);
    expect(second.error).toBeInstanceOf(Error);
    expect((second.error as Error).message).toMatch(/fit: fit\(\) is running on this model/);
    expect(first.error).toBeUndefined();
    expect(first.value?.steps).toBe(24);
    expect(model.stepCount).toBe(24);

    const lone = engine.mlp(spec);
    await lone.fit(data, fitOptions);
    expect(await model.getParameters()).toEqual(await lone.getParameters());
    model.dispose();
    lone.dispose();
  });

  it('an evaluate started in the same tick as fit is refused, and the fit is unharmed', async () => {
    const model = engine.mlp(spec);
    const p1 = model.fit(data, fitOptions);
    const p2 = model.evaluate(x, y);
    const [first, second] = await Promise.all([outcome(p1), outcome(p2)]);
    expect(second.error).toBeInstanceOf(Error);
    expect((second.error as Error).message).toMatch(/evaluate: fit\(\) is running on this model/);
    expect(first.error).toBeUndefined();
    expect(first.value?.steps).toBe(24);

    const lone = engine.mlp(spec);
    await lone.fit(data, fitOptions);
    expect(await model.getParameters()).toEqual(await lone.getParameters());
    // Once the fit is over, evaluate is allowed again.
    expect(Number.isFinite((await model.evaluate(x, y)).loss)).toBe(true);
    model.dispose();
    lone.dispose();
  });
});

describe('dispose during a call', () => {
  /** A model disposed from onStep in the middle of its fit: the fit's outcome. */
  async function disposeDuringFit() {
    const model = engine.mlp(spec);
    const result = await outcome(
      model.fit(data, {
        ...fitOptions,
        epochs: 20,
        onStep: (s) => {
          if (s.step === 10) model.dispose();
        },
      }),
    );
    return { model, result };
  }

  it('fit rejects naming the disposal, its buffers are freed, and the engine stays usable', async () => {
    // Once first, so the engine's reusable staging buffers exist before memory is measured.
    await disposeDuringFit();
    const before = engine.memory();
    const { model, result } = await disposeDuringFit();
    expect(result.error).toBeInstanceOf(Error);
    expect((result.error as Error).message).toMatch(/fit: this model was disposed while the call was running/);
    expect(engine.lost).toBe(false);
    // Freed once the fit stopped: nothing of the model is left.
    expect(engine.memory()).toEqual(before);
    await expect(model.predict(x)).rejects.toThrow(/predict: this model was disposed/);

    const next = engine.mlp(spec);
    const history = await next.fit(data, fitOptions);
    expect(history.steps).toBe(24);
    expect((await next.predict(x)).length).toBe(n * 4);
    expect((await next.evaluate(x, y)).accuracy).toBeGreaterThan(0.5);
    next.dispose();
    expect(engine.memory().buffers).toBeLessThanOrEqual(before.buffers);
  });

  it('a long predict (many micro-batches) rejects clearly or completes, and the engine stays usable', async () => {
    const rows = 2048;
    const bx = Float32Array.from(randomArray(rows * 3, 12));
    const model = engine.mlp({ ...spec, microBatchSize: 4 });
    expect(model.maxRows).toBe(4);
    const p = model.predict(bx);
    await wait(5);
    model.dispose();
    const result = await outcome(p);
    if (result.error !== undefined) {
      expect(result.error).toBeInstanceOf(Error);
      expect((result.error as Error).message).toMatch(/predict: this model was disposed while the call was running/);
    } else {
      expect(result.value?.length).toBe(rows * 4);
    }
    expect(engine.lost).toBe(false);
    await expect(model.predict(x)).rejects.toThrow(/predict: this model was disposed/);

    const next = engine.mlp({ ...spec, microBatchSize: 4 });
    await next.fit(data, { ...fitOptions, epochs: 1 });
    const out = await next.predict(bx);
    expect(out.length).toBe(rows * 4);
    expect(out.every(Number.isFinite)).toBe(true);
    next.dispose();
  });

  it('dispose in the same tick as predict stops it before its second pass', async () => {
    const model = engine.mlp({ ...spec, microBatchSize: 4 });
    const p = model.predict(Float32Array.from(randomArray(256 * 3, 13)));
    model.dispose();
    await expect(p).rejects.toThrow(/predict: this model was disposed while the call was running/);
    const next = engine.mlp(spec);
    expect((await next.predict(x)).length).toBe(n * 4);
    next.dispose();
  });
});

describe('engine.destroy() during a fit', () => {
  it('the fit rejects saying the engine was destroyed, and everything is freed', async () => {
    const own = await createEngine({ matmul: 'regular' });
    const model = own.mlp(spec);
    const result = await outcome(model.fit(data, { ...fitOptions, onStep: (s) => s.step === 3 && own.destroy() }));
    expect(result.error).toBeInstanceOf(Error);
    expect(String(result.error)).toMatch(/engine was destroyed; create a new one/);
    expect(own.memory()).toEqual({ buffers: 0, bytes: 0 });
    await expect(model.predict(x)).rejects.toThrow(/engine was destroyed/);
  });
});

describe('device loss under concurrent fits', () => {
  const specs: MlpOptions[] = [
    { sizes: [3, 8, 4], activations: ['tanh', 'identity'], loss: 'cross_entropy', seed: 7 },
    { sizes: [3, 12, 4], activations: ['relu', 'identity'], loss: 'cross_entropy', seed: 8 },
  ];
  const options: FitOptions[] = [
    { ...fitOptions, epochs: 15, seed: 1, checkpointEvery: 6 },
    {
      ...fitOptions,
      epochs: 15,
      seed: 2,
      checkpointEvery: 6,
      optimizer: { type: 'sgd', learningRate: 0.1, momentum: 0.9 },
    },
  ];

  /**
   * Model k's fit saw the device lost once and ends with the unbroken run's parameters. Concurrent fits do not
   * run in lockstep, and on a loaded machine model 1 now and then finishes before model 0 reaches the step that
   * loses the device: its fit never saw the loss, and its model, no longer fitting, reports the loss on its next
   * call, as the README says of every model that is not fitting. Model 0 loses the device itself, mid-fit.
   */
  function expectRecovered(
    k: number,
    history: History,
    params: { value?: unknown; error?: unknown } | null,
    unbroken: { value?: unknown; error?: unknown } | null,
  ) {
    if (k === 1 && history.deviceLosses === 0) {
      expect(String(params?.error)).toMatch(/lost with this model's parameters/);
      return;
    }
    expect(history.deviceLosses, `model ${k}`).toBe(1);
    expect(params?.error, `model ${k} parameters`).toBeUndefined();
    expect(params?.value, `model ${k} parameters`).toEqual(unbroken?.value);
    expect(unbroken?.value).toBeDefined();
  }

  /** Both models fit at once on a new engine; `lose(engine, step)` runs from model 0's onStep. */
  async function run(lose: ((own: Engine, step: number) => void) | null) {
    const own = await createEngine({ matmul: 'regular' });
    try {
      const models = specs.map((s) => own.mlp(s));
      const results = await Promise.all(
        models.map((m, k) =>
          outcome(
            m.fit(data, {
              ...options[k],
              onStep: k === 0 && lose ? (s) => lose(own, s.step) : undefined,
            }),
          ),
        ),
      );
      const params = [];
      for (const [k, m] of models.entries()) {
        params.push(results[k].error === undefined ? await outcome(m.getParameters()) : null);
      }
      return { own, models, results, params };
    } catch (error) {
      own.destroy();
      throw error;
    }
  }

  it('engine.loseDevice() from one fit: both fits recover and end exactly where unbroken runs end', async () => {
    let lost = false;
    const broken = await run((own, step) => {
      if (step === 21 && !lost) {
        lost = true;
        own.loseDevice();
      }
    });
    let whole: Awaited<ReturnType<typeof run>> | undefined;
    try {
      whole = await run(null);
      expect(lost).toBe(true);
      for (const k of [0, 1]) {
        expect(broken.results[k].error, `model ${k}`).toBeUndefined();
        const history = broken.results[k].value as History;
        expect(history.steps).toBe(60);
        expect(history.epochs.map((e) => e.epoch)).toEqual([...Array(15).keys()]);
        expect(broken.models[k].stepCount).toBe(60);
        expectRecovered(k, history, broken.params[k], whole.params[k]);
      }
      expect(broken.own.lost).toBe(false);
    } finally {
      broken.own.destroy();
      whole?.own.destroy();
    }
  });

  it('engine.device.destroy() mid-fit is a device loss: the fit recovers, never a bare AbortError', async () => {
    let destroyed = false;
    const broken = await run((own, step) => {
      if (step === 10 && !destroyed) {
        destroyed = true;
        own.device.destroy();
      }
    });
    let whole: Awaited<ReturnType<typeof run>> | undefined;
    try {
      whole = await run(null);
      expect(destroyed).toBe(true);
      for (const k of [0, 1]) {
        const { error, value } = broken.results[k];
        if (error !== undefined) {
          // The alternative the contract allows: a DeviceLostError that says what happened.
          expect(error, `model ${k}: ${String(error)}`).toBeInstanceOf(DeviceLostError);
          expect((error as Error).message).toMatch(/GPU device was lost/);
        } else {
          expect(value?.steps).toBe(60);
          expectRecovered(k, value as History, broken.params[k], whole.params[k]);
        }
      }
      if (broken.results.every((r) => r.error === undefined)) {
        expect(broken.own.lost).toBe(false);
        expect((await broken.models[0].predict(x)).length).toBe(n * 4);
      } else {
        // Not recovered: the engine says so, and calls fail with the loss until recover().
        expect(broken.own.lost).toBe(true);
        await expect(broken.models[0].predict(x)).rejects.toThrow(/GPU device was lost/);
      }
    } finally {
      broken.own.destroy();
      whole?.own.destroy();
    }
  });

  it('engine.device.destroy() outside fit: lost, calls fail clearly until recover()', async () => {
    const own = await createEngine({ matmul: 'regular' });
    try {
      const model: Mlp = own.mlp(spec);
      expect((await model.predict(x)).length).toBe(n * 4);
      own.device.destroy();
      await wait(50);
      expect(own.lost).toBe(true);
      const error = (await outcome(model.predict(x))).error;
      expect(error).toBeInstanceOf(DeviceLostError);
      expect((error as Error).message).toMatch(/GPU device was lost \(destroyed/);
      await expect(model.fit(data, fitOptions)).rejects.toThrow(/GPU device was lost/);
      expect(() => own.mlp(spec)).toThrow(/GPU device was lost/);
      await own.recover();
      expect(own.lost).toBe(false);
      await expect(model.predict(x)).rejects.toThrow(/lost with this model's parameters/);
      const fresh = own.mlp(spec);
      await fresh.fit(data, { ...fitOptions, epochs: 1 });
      expect((await fresh.predict(x)).length).toBe(n * 4);
    } finally {
      own.destroy();
    }
  });
});
