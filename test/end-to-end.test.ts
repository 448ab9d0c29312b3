// End to end: seeded runs learn XOR and two spirals to at least 97% training accuracy, and MNIST 784-128-10 to at
// least 92% on held-out digits, all on the GPU (SwiftShader where there is none).
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../src/data/mnist.js';
import { twoSpirals, xorTable } from '../src/data/synthetic.js';
import { useEngine } from './gpu.js';

const engine = await useEngine();

describe('training end to end', () => {
  it('learns XOR with plain SGD steps', async () => {
    const { x, y } = xorTable();
    const model = engine.mlp({ sizes: [2, 8, 2], activations: ['tanh', 'identity'], loss: 'cross_entropy', seed: 1 });
    const first = (await model.evaluate(x, y)).loss;
    for (let i = 0; i < 300; i++) model.sgdStep(x as Float32Array, y as Uint32Array, 0.5);
    const { loss, accuracy } = await model.evaluate(x, y);
    expect(loss).toBeLessThan(first / 10);
    expect(accuracy).toBe(1);
    model.dispose();
  });

  it('learns two spirals to >= 97% training accuracy', async () => {
    const data = twoSpirals(400, { seed: 1 });
    // relu: small tanh nets sit on a plateau for hundreds of shuffled Adam steps here (the float64 reference
    // does the same), which would only make the test slow.
    const model = engine.mlp({
      sizes: [2, 64, 64, 2],
      activations: ['relu', 'relu', 'identity'],
      loss: 'cross_entropy',
      seed: 1,
    });
    const history = await model.fit(data, {
      epochs: 20,
      batchSize: 40,
      seed: 1,
      stepsPerSubmit: 16,
      optimizer: { type: 'adam', learningRate: 0.01 },
    });
    const { accuracy } = await model.evaluate(data.x, data.y);
    expect(history.epochs[0].loss).toBeGreaterThan(history.epochs[19].loss * 5);
    expect(accuracy).toBeGreaterThanOrEqual(0.97);
    model.dispose();
  });

  it('learns MNIST 784-128-10 to >= 92% on held-out digits', async () => {
    const { train, test } = loadMnist();
    const model = engine.mlp({
      sizes: [784, 128, 10],
      activations: ['relu', 'identity'],
      loss: 'cross_entropy',
      seed: 1,
    });
    const history = await model.fit(train, {
      epochs: 3,
      batchSize: 64,
      seed: 1,
      optimizer: { type: 'adam', learningRate: 2e-3 },
      validation: test,
    });
    const last = history.epochs[history.epochs.length - 1];
    expect(last.valAccuracy).toBeGreaterThanOrEqual(0.92);
    const { accuracy } = await model.evaluate(test.x, test.y, { inputScale: test.inputScale });
    expect(accuracy).toBeCloseTo(last.valAccuracy ?? 0, 6);
    model.dispose();
  });
});
