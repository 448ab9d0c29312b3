// engine.load with an architecture (PyTorch state_dicts) and model.preprocessing carried by save and load.
import { describe, expect, it } from 'vitest';
import { fitPreprocessing, inputsOf, predictionsOf, readForModel } from '../src/data/preprocess.js';
import { readTable } from '../src/data/table.js';
import { readTabular } from '../src/data/tabular.js';
import type { Preprocessing } from '../src/io/preprocessing.js';
import { encodeSafetensors } from '../src/io/safetensors.js';
import { useEngine } from './gpu.js';

const engine = await useEngine();
const regression: Preprocessing = {
  task: 'regression',
  features: ['a', 'b', 'c'],
  mean: [1, 2, 3],
  std: [0.5, 1, 2],
  labels: ['price', 'rent'],
  targetMean: [100, 10],
  targetStd: [20, 2],
};

describe('engine.load', () => {
  it('loads a PyTorch nn.Sequential state_dict when given the architecture', async () => {
    const w0 = Float32Array.from({ length: 12 }, (_, i) => (i - 6) / 10);
    const b0 = Float32Array.of(0.1, -0.2, 0.3, 0);
    const w1 = Float32Array.of(1, -1, 0.5, 2);
    const b1 = Float32Array.of(0.25);
    const bytes = encodeSafetensors(
      [
        { name: 'net.0.weight', shape: [4, 3], data: w0 },
        { name: 'net.0.bias', shape: [4], data: b0 },
        { name: 'net.2.weight', shape: [1, 4], data: w1 },
        { name: 'net.2.bias', shape: [1], data: b1 },
      ],
      { format: 'pt' },
    );
    const model = await engine.load(bytes, { activations: ['relu', 'identity'], loss: 'mse' });
    expect(model.sizes).toEqual([3, 4, 1]);
    expect(model.preprocessing).toBe(null);
    const x = Float32Array.of(1, 2, 3);
    const hidden = [0, 1, 2, 3].map((o) => Math.max(0, b0[o] + w0[o * 3] * 1 + w0[o * 3 + 1] * 2 + w0[o * 3 + 2] * 3));
    const expected = b1[0] + hidden.reduce((s, h, o) => s + h * w1[o], 0);
    expect((await model.predict(x))[0]).toBeCloseTo(expected, 5);
    await expect(engine.load(bytes)).rejects.toThrow(/loads with \{ activations, loss \} given/);
    model.dispose();
  });

  it('carries model.preprocessing through save and load, checked against the model', async () => {
    const model = engine.mlp({ sizes: [3, 4, 2], activations: ['relu', 'identity'], loss: 'mse' });
    model.preprocessing = regression;
    const copy = model.preprocessing!;
    copy.mean[0] = 99;
    expect(model.preprocessing).toEqual(regression);
    const again = await engine.load(await model.save());
    expect(again.preprocessing).toEqual(regression);
    expect(() => {
      model.preprocessing = { ...regression, labels: ['price'] };
    }).toThrow(new RangeError("preprocessing.labels must have 2 entries (from the model's sizes), got 1"));
    expect(model.preprocessing).toEqual(regression);
    model.preprocessing = null;
    expect((await engine.load(await model.save())).preprocessing).toBe(null);
    model.dispose();
    again.dispose();
  });

  it('predicts the same with a reloaded model whose preprocessing one-hot encodes a column', async () => {
    const p = fitPreprocessing(readTabular(readTable('size,colour,y\n1,red,a\n2,blue,b\n3,red,a\n4,green,b\n')));
    const model = engine.mlp({ sizes: [4, 4, 2], activations: ['relu', 'identity'], loss: 'cross_entropy', seed: 3 });
    model.preprocessing = p;
    const again = await engine.load(await model.save());
    expect(again.preprocessing).toEqual(p);
    const rows = readTable('colour,size\npurple,2\nred,2\n');
    const q = again.preprocessing!;
    const x = inputsOf(q, readForModel(q, rows, false));
    expect(Array.from(x.subarray(1, 4))).toEqual([0, 0, 0]);
    const before = predictionsOf(p, await model.predict(inputsOf(p, readForModel(p, rows, false))));
    expect(predictionsOf(q, await again.predict(x))).toEqual(before);
    model.dispose();
    again.dispose();
  });
});
