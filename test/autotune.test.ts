// Choosing the matmul kernel per adapter (src/autotune.ts): the adapter-kind rule, the timed choice and its
// cache, option checking, and that both kernels train a model to the same numbers.
import { afterAll, describe, expect, it } from 'vitest';
import { defaultMatmul, runsOnCpu } from '../src/autotune.js';
import type { AdapterDescription } from '../src/engine.js';
import { createEngine } from '../src/node.js';
import { twoSpirals } from '../src/data/synthetic.js';
import { expectClose } from './reference/check.js';

const adapter = (a: Partial<AdapterDescription>): AdapterDescription => ({
  vendor: '',
  architecture: '',
  device: '',
  description: '',
  fallback: false,
  ...a,
});

describe('the adapter-kind rule', () => {
  it.each([
    [{ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' }, true],
    [{ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }, true],
    [{ description: 'Microsoft Basic Render Driver' }, true],
    [{ vendor: 'unknown', fallback: true }, true],
    [{ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' }, false],
    [{ vendor: 'apple', architecture: 'metal-3' }, false],
    [{ vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) UHD Graphics 770' }, false],
  ])('%o runs on the CPU: %s', (a, cpu) => {
    expect(runsOnCpu(adapter(a))).toBe(cpu);
    expect(defaultMatmul(adapter(a)).name).toBe(cpu ? 'wide' : 'regular');
  });
});

describe('createEngine({ matmul })', () => {
  const engines: Awaited<ReturnType<typeof createEngine>>[] = [];
  afterAll(() => {
    for (const e of engines) e.destroy();
  });

  it('rejects an unknown choice before asking for a device', async () => {
    await expect(createEngine({ matmul: 'fastest' as never })).rejects.toThrow(
      /matmul must be one of 'auto', 'timed', 'regular', 'wide'; got "fastest"/,
    );
  });

  it("'timed' times both variants once per adapter and keeps the faster", async () => {
    const first = await createEngine({ matmul: 'timed' });
    engines.push(first);
    const timings = first.matmulTimings!;
    expect(Object.keys(timings).sort()).toEqual(['regular', 'wide']);
    for (const ms of Object.values(timings)) expect(ms).toBeGreaterThan(0);
    const fastest = timings.regular! <= timings.wide! ? 'regular' : 'wide';
    expect(first.matmul.name).toBe(fastest);
    // A second engine on the same adapter reuses the decision instead of timing again.
    const second = await createEngine({ matmul: 'timed' });
    engines.push(second);
    expect(second.matmul.name).toBe(first.matmul.name);
    expect(second.matmulTimings).toEqual(timings);
  });

  it("'auto' follows the adapter kind, and a forced variant is used as given", async () => {
    const auto = await createEngine();
    engines.push(auto);
    expect(auto.matmul).toBe(defaultMatmul(auto.adapter));
    expect(auto.matmulTimings).toBeNull();
    const wide = await createEngine({ matmul: 'wide' });
    engines.push(wide);
    expect(wide.matmul.kernel).toBe('matmul_wide');
  });

  it('both kernels train a model to the same parameters', async () => {
    // Same seed, data and steps: the kernels sum in different orders, so f32 rounding differs, nothing else.
    const data = twoSpirals(300, { seed: 3 });
    const results = [];
    for (const matmul of ['regular', 'wide'] as const) {
      const engine = await createEngine({ matmul });
      engines.push(engine);
      const model = engine.mlp({
        sizes: [2, 150, 70, 2],
        activations: ['relu', 'tanh', 'identity'],
        loss: 'cross_entropy',
        seed: 5,
      });
      const history = await model.fit(data, {
        epochs: 3,
        batchSize: 37,
        optimizer: { type: 'sgd', learningRate: 0.1 },
      });
      results.push({ losses: history.epochs.map((e) => e.loss), params: await model.getParameters() });
    }
    const [regular, wide] = results;
    expectClose(wide.losses, regular.losses, { atol: 1e-5, rtol: 1e-4 }, 'epoch losses');
    regular.params.forEach((layer, l) => {
      expectClose(wide.params[l].weight, layer.weight, { atol: 1e-5, rtol: 1e-4 }, `layer ${l} weight`);
      expectClose(wide.params[l].bias, layer.bias, { atol: 1e-5, rtol: 1e-4 }, `layer ${l} bias`);
    });
  });
});
