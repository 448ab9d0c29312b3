// Choosing the matmul kernel per adapter (src/gpu/autotune.ts): the adapter-kind rule, the timed choice and its
// cache, option checking, and that every kernel trains a model to the same numbers.
import { afterAll, describe, expect, it } from 'vitest';
import { GPU_VARIANTS, runnableVariants, runsOnCpu, subgroupsOfFour } from '../../src/gpu/autotune.js';
import type { AdapterDescription } from '../../src/gpu/device.js';
import { createEngine } from '../../src/node.js';
import { twoSpirals } from '../../src/data/synthetic.js';
import { expectClose } from '../reference/check.js';
import { loseDeviceAt } from '../gpu.js';

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
  });
});

describe('createEngine({ matmul })', () => {
  const engines: Awaited<ReturnType<typeof createEngine>>[] = [];
  const gpus: GPU[] = [];
  afterAll(() => {
    for (const e of engines) e.destroy();
    gpus.length = 0;
  });

  it('rejects an unknown choice before asking for a device', async () => {
    await expect(createEngine({ matmul: 'fastest' as never })).rejects.toThrow(
      /matmul must be one of 'auto', 'timed', 'regular', 'wide', 'subgroup', 'tiled'; got "fastest"/,
    );
  });

  it("'timed' times every variant the device can run, once per adapter, and keeps the fastest", async () => {
    const first = await createEngine({ matmul: 'timed' });
    engines.push(first);
    const timings = first.matmulTimings!;
    expect(Object.keys(timings).sort()).toEqual((await runnableVariants(first)).sort());
    for (const ms of Object.values(timings)) expect(ms).toBeGreaterThan(0);
    expect(timings[first.matmul.name]).toBe(Math.min(...Object.values(timings)));
    // A second engine on the same adapter reuses the decision instead of timing again.
    const second = await createEngine({ matmul: 'timed' });
    engines.push(second);
    expect(second.matmul.name).toBe(first.matmul.name);
    expect(second.matmulTimings).toEqual(timings);
  });

  it("'auto' takes 'subgroup' or 'wide' untimed on a CPU adapter, times the GPU kernels elsewhere", async () => {
    const auto = await createEngine();
    engines.push(auto);
    if (runsOnCpu(auto.adapter)) {
      expect(auto.matmul.name).toBe((await subgroupsOfFour(auto)) ? 'subgroup' : 'wide');
      expect(auto.matmulTimings).toBeNull();
    } else {
      expect(Object.keys(auto.matmulTimings ?? {}).sort()).toEqual([...GPU_VARIANTS].sort());
      expect(GPU_VARIANTS).toContain(auto.matmul.name);
    }
    const wide = await createEngine({ matmul: 'wide' });
    engines.push(wide);
    expect(wide.matmul.kernel).toBe('matmul_wide');
  });

  it('SwiftShader runs subgroups of four, so the subgroup kernel is tested and chosen there', async () => {
    const engine = await createEngine({ matmul: 'regular' });
    engines.push(engine);
    if (!/swiftshader/i.test(engine.adapter.architecture + engine.adapter.description)) return;
    expect(engine.device.features.has('subgroups')).toBe(true);
    expect(await subgroupsOfFour(engine)).toBe(true);
    expect(await runnableVariants(engine)).toContain('subgroup');
  });

  it("a device without subgroups gets 'wide' from 'auto', and a clear refusal of 'subgroup'", async () => {
    await createEngine({ matmul: 'regular' }).then((e) => e.destroy()); // Dawn's globals and drivers
    const { create } = await import('webgpu');
    // dawn.node tears its instance down when the GPU object is collected, devices and all: keep it referenced.
    const gpu = create([]);
    gpus.push(gpu);
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter');
    const device = await adapter.requestDevice();
    expect(device.features.has('subgroups')).toBe(false);
    await expect(createEngine({ device, matmul: 'subgroup' })).rejects.toThrow(
      "createEngine: matmul 'subgroup' needs the device feature 'subgroups', which this device does not have",
    );
    const auto = await createEngine({ device });
    engines.push(auto);
    expect(auto.matmul.name).toBe(runsOnCpu(auto.adapter) ? 'wide' : auto.matmul.name);
  });

  it("a 'subgroup' fit whose replacement device has no subgroups recovers onto 'wide' and ends where it would have", async () => {
    const data = twoSpirals(120, { seed: 4 });
    const run = async (loseAt: number | null) => {
      const engine = await createEngine({ matmul: 'subgroup' });
      engines.push(engine);
      const model = engine.mlp({
        sizes: [2, 24, 2],
        activations: ['tanh', 'identity'],
        loss: 'cross_entropy',
        seed: 6,
      });
      // A replacement device is asked for without 'subgroups', as from an adapter that stopped offering it.
      const proto = GPUAdapter.prototype;
      const requestDevice = proto.requestDevice;
      proto.requestDevice = function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor) {
        const requiredFeatures = [...(descriptor?.requiredFeatures ?? [])].filter((f) => f !== 'subgroups');
        return requestDevice.call(this, { ...descriptor, requiredFeatures });
      };
      try {
        const history = await model.fit(data, {
          epochs: 6,
          batchSize: 30,
          stepsPerSubmit: 2,
          checkpointEvery: 4,
          optimizer: { type: 'sgd', learningRate: 0.1 },
          onStep: loseDeviceAt(engine, loseAt),
        });
        return { engine, history, params: await model.getParameters() };
      } finally {
        proto.requestDevice = requestDevice;
      }
    };
    const whole = await run(null);
    const broken = await run(13);
    expect(broken.history.deviceLosses).toBe(1);
    expect(broken.engine.device.features.has('subgroups')).toBe(false);
    expect(broken.engine.matmul.name).toBe('wide');
    expect(whole.engine.matmul.name).toBe('subgroup');
    // The steps after the loss ran on the other kernel: the same sums in another order.
    broken.params.forEach((layer, l) => {
      expectClose(layer.weight, whole.params[l].weight, { atol: 1e-5, rtol: 1e-4 }, `layer ${l} weight`);
      expectClose(layer.bias, whole.params[l].bias, { atol: 1e-5, rtol: 1e-4 }, `layer ${l} bias`);
    });
  });

  it('every kernel the device can run trains a model to the same parameters', async () => {
    // Same seed, data and steps: the kernels sum in different orders, so f32 rounding differs, nothing else.
    const data = twoSpirals(300, { seed: 3 });
    const results = [];
    const probe = await createEngine({ matmul: 'regular' });
    engines.push(probe);
    for (const matmul of await runnableVariants(probe)) {
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
    const [regular, ...others] = results;
    for (const other of others) {
      expectClose(other.losses, regular.losses, { atol: 1e-5, rtol: 1e-4 }, 'epoch losses');
      regular.params.forEach((layer, l) => {
        expectClose(other.params[l].weight, layer.weight, { atol: 1e-5, rtol: 1e-4 }, `layer ${l} weight`);
        expectClose(other.params[l].bias, layer.bias, { atol: 1e-5, rtol: 1e-4 }, `layer ${l} bias`);
      });
    }
  });
});
