// Early stopping: the fit stops after `patience` epochs without a better validation loss and ends with the
// best epoch's parameters.
import { describe, expect, it } from 'vitest';
import { useEngine } from '../gpu.js';

const engine = await useEngine();
// A regression a wide network overfits: 24 noisy training rows, validation rows from the clean function.
const n = 24;
const noise = (i: number) => (((i * 7919) % 13) / 13 - 0.5) * 1.5;
const x = Float32Array.from({ length: n }, (_, i) => (i / n) * 4 - 2);
const y = Float32Array.from(x, (v, i) => Math.sin(v) + noise(i));
const vx = Float32Array.from({ length: 16 }, (_, i) => (i / 16) * 4 - 1.9);
const vy = Float32Array.from(vx, Math.sin);
const options = { sizes: [1, 64, 64, 1], activations: ['tanh', 'tanh', 'identity'], loss: 'mse' } as const;

describe('fit with earlyStopping', () => {
  it('stops after patience epochs without improvement and restores the best epoch', async () => {
    const model = engine.mlp({ ...options, activations: [...options.activations], sizes: [...options.sizes], seed: 3 });
    const history = await model.fit(
      { x, y },
      {
        epochs: 300,
        batchSize: 24,
        optimizer: { type: 'adam', learningRate: 0.05 },
        validation: { x: vx, y: vy },
        earlyStopping: { patience: 5 },
      },
    );
    expect(history.stoppedEarly).toBe(true);
    const val = history.epochs.map((e) => e.valLoss!);
    const best = val.indexOf(Math.min(...val));
    expect(history.bestEpoch).toBe(best);
    expect(history.epochs).toHaveLength(best + 1 + 5);
    // The model holds the best epoch's parameters: its validation loss is the best one seen.
    expect((await model.evaluate(vx, vy)).loss).toBeCloseTo(val[best], 5);
    model.dispose();
  });

  it('keeps the last parameters with restoreBest false, and runs every epoch when the loss keeps falling', async () => {
    const model = engine.mlp({ ...options, activations: [...options.activations], sizes: [...options.sizes], seed: 3 });
    const history = await model.fit(
      { x, y },
      {
        epochs: 300,
        batchSize: 24,
        optimizer: { type: 'adam', learningRate: 0.05 },
        validation: { x: vx, y: vy },
        earlyStopping: { patience: 5, restoreBest: false },
      },
    );
    const last = history.epochs.at(-1)!.valLoss!;
    expect((await model.evaluate(vx, vy)).loss).toBeCloseTo(last, 5);
    const steady = await engine
      .mlp({ sizes: [1, 4, 1], activations: ['tanh', 'identity'], loss: 'mse', seed: 1 })
      .fit(
        { x: vx, y: vy },
        { epochs: 3, batchSize: 16, validation: { x: vx, y: vy }, earlyStopping: { patience: 10 } },
      );
    expect(steady.stoppedEarly).toBe(false);
    expect(steady.epochs).toHaveLength(3);
    model.dispose();
  });

  it('refuses bad options before training', async () => {
    const model = engine.mlp({ sizes: [1, 2, 1], activations: ['tanh', 'identity'], loss: 'mse' });
    await expect(model.fit({ x, y }, { earlyStopping: { patience: 3 } })).rejects.toThrow(
      new TypeError('fit: earlyStopping watches the validation loss, so it needs validation data; got none'),
    );
    const validation = { x: vx, y: vy };
    await expect(model.fit({ x, y }, { validation, earlyStopping: { patience: 0 } })).rejects.toThrow(
      /earlyStopping\.patience must be an integer >= 1, got 0/,
    );
    await expect(
      model.fit({ x, y }, { validation, earlyStopping: { patience: 2, restoreBest: 'yes' as never } }),
    ).rejects.toThrow(TypeError);
    await expect(model.fit({ x, y }, { validation, earlyStopping: { patience: 2, minDelta: -1 } })).rejects.toThrow(
      RangeError,
    );
    model.dispose();
  });
});
