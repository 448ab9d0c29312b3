// Choosing the matmul kernel per adapter (src/gpu/autotune.ts): the adapter-kind rule, the timed choice, its
// cache in the process and in a store between processes, option checking, and that every kernel trains a model
// to the same numbers.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AUTO_MARGIN,
  CPU_VARIANTS,
  GPU_VARIANTS,
  pickVariant,
  runnableVariants,
  runsOnCpu,
  storeKey,
  subgroupsOfFour,
  timeMatmul,
} from '../../src/gpu/autotune.js';
import { MATMUL_VARIANTS, type MatmulVariantName } from '../../src/gpu/kernels.js';
import { isTunedMatmul, type TunedMatmul, type TuningStore } from '../../src/gpu/tuning-store.js';
import type { AdapterDescription } from '../../src/gpu/device.js';
import { createEngine } from '../../src/node.js';
import { createEngineFrom, type Engine } from '../../src/engine.js';
import { twoSpirals } from '../../src/data/synthetic.js';
import type { LayerParameters } from '../../src/core/types.js';
import { expectClose } from '../reference/check.js';
import { loseDeviceAt, plainDevice } from '../gpu.js';

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

// GPU objects made here, kept for the life of the file.
const gpus: GPU[] = [];

/**
 * A six-epoch SGD fit of a small model on the spirals, the device lost when step `loseAt` comes back (null: never);
 * with the model's row limit before and after.
 */
async function lossyFit(engine: Engine, loseAt: number | null) {
  const model = engine.mlp({ sizes: [2, 24, 2], activations: ['tanh', 'identity'], loss: 'cross_entropy', seed: 6 });
  const rows = model.maxRows;
  const history = await model.fit(twoSpirals(120, { seed: 4 }), {
    epochs: 6,
    batchSize: 30,
    stepsPerSubmit: 2,
    checkpointEvery: 4,
    optimizer: { type: 'sgd', learningRate: 0.1 },
    onStep: loseDeviceAt(engine, loseAt),
  });
  return { history, params: await model.getParameters(), rows: [rows, model.maxRows] };
}

/** Parameters equal up to f32 rounding: steps after a loss may run on another kernel, summing in another order. */
function expectSameParameters(got: LayerParameters[], want: LayerParameters[]): void {
  got.forEach((layer, l) => {
    expectClose(layer.weight, want[l].weight, { atol: 1e-5, rtol: 1e-4 }, `layer ${l} weight`);
    expectClose(layer.bias, want[l].bias, { atol: 1e-5, rtol: 1e-4 }, `layer ${l} bias`);
  });
}

describe('createEngine({ matmul })', () => {
  const engines: Awaited<ReturnType<typeof createEngine>>[] = [];
  afterAll(() => {
    for (const e of engines) e.destroy();
  });

  it('rejects an onTiming that is not a function, naming what came', async () => {
    await expect(createEngine({ onTiming: 'log' as never })).rejects.toThrow(
      'createEngine: onTiming must be a function; got "log"',
    );
  });

  it('rejects an unknown choice before asking for a device', async () => {
    await expect(createEngine({ matmul: 'fastest' as never })).rejects.toThrow(
      /matmul must be one of 'auto', 'timed', 'regular', 'wide', 'subgroup', 'tiled'; got "fastest"/,
    );
  });

  it("'timed' times every variant the device can run, once per adapter, and keeps the fastest", async () => {
    // A cache folder of its own, so that the choice is not already kept from an earlier run.
    const cache = process.env.WEBGRAD_CACHE_DIR;
    process.env.WEBGRAD_CACHE_DIR = mkdtempSync(join(tmpdir(), 'webgrad-timed-'));
    const said: (readonly string[])[] = [];
    const first = await createEngine({ matmul: 'timed', onTiming: (names) => void said.push(names) }).finally(
      () => (process.env.WEBGRAD_CACHE_DIR = cache),
    );
    engines.push(first);
    const timings = first.matmulTimings!;
    const runnable = await runnableVariants(first);
    expect(Object.keys(timings).sort()).toEqual([...runnable].sort());
    for (const ms of Object.values(timings)) expect(ms).toBeGreaterThan(0);
    expect(timings[first.matmul.name]).toBe(Math.min(...Object.values(timings)));
    // onTiming is told just before a slow timing (a CPU adapter's, kept); a GPU's takes milliseconds, unsaid.
    expect(said).toEqual(runsOnCpu(first.adapter) ? [runnable] : []);
    // A second engine on the same adapter reuses the decision instead of timing again, and says nothing.
    const second = await createEngine({ matmul: 'timed', onTiming: (names) => void said.push(names) });
    engines.push(second);
    expect(second.matmul.name).toBe(first.matmul.name);
    expect(second.matmulTimings).toEqual(timings);
    expect(said).toHaveLength(runsOnCpu(first.adapter) ? 1 : 0);
  });

  it("'auto' times the kernels made for the kind of adapter and keeps the fastest", async () => {
    const auto = await createEngine();
    engines.push(auto);
    const cpu = runsOnCpu(auto.adapter);
    const runnable = await runnableVariants(auto);
    const candidates = (cpu ? CPU_VARIANTS : GPU_VARIANTS).filter((name) => runnable.includes(name));
    const timings = auto.matmulTimings ?? {};
    expect(Object.keys(timings).sort()).toEqual([...candidates].sort());
    // The first in the list, unless a later one is faster by more than AUTO_MARGIN (pickVariant, tested below).
    expect(auto.matmul.name).toBe(pickVariant(timings, candidates, AUTO_MARGIN));
    const wide = await createEngine({ matmul: 'wide' });
    engines.push(wide);
    expect(wide.matmul.kernel).toBe('matmul_wide');
    expect(wide.matmulTimings).toBeNull();
  });

  it('a decision in the store is taken without timing; one of the wrong shape is timed again and replaced', async () => {
    const engine = await createEngine({ matmul: 'regular' });
    engines.push(engine);
    const saved = new Map<string, unknown>();
    const timed: (readonly MatmulVariantName[])[] = [];
    const store: TuningStore = {
      get: async (key) => saved.get(key) as TunedMatmul | undefined,
      set: async (key, value) => void saved.set(key, value),
      willTime: (names) => void timed.push(names),
    };
    // A list no other test times, so the decision is not already held for the process.
    const kept: readonly MatmulVariantName[] = ['regular', 'wide'];
    saved.set(storeKey(engine.adapter, kept), { variant: 'regular', timings: { regular: 1, wide: 2 } });
    const fromStore = await timeMatmul(engine, kept, store);
    expect(fromStore.variant.name).toBe('regular');
    expect(fromStore.timings).toEqual({ regular: 1, wide: 2 });
    expect(timed).toEqual([]);

    const malformed: readonly MatmulVariantName[] = ['wide', 'regular'];
    const key = storeKey(engine.adapter, malformed);
    saved.set(key, { variant: 'tiled', timings: { wide: 1 } });
    const fresh = await timeMatmul(engine, malformed, store);
    expect(timed).toEqual([malformed]);
    expect(Object.keys(fresh.timings).sort()).toEqual(['regular', 'wide']);
    expect(saved.get(key)).toEqual({ variant: fresh.variant.name, timings: fresh.timings });
    expect(isTunedMatmul(saved.get(key), malformed)).toBe(true);
  });

  it.each([
    [{ subgroup: 10, wide: 9.5, regular: 20 }, 0.1, 'subgroup'],
    [{ subgroup: 10, wide: 8.9, regular: 20 }, 0.1, 'wide'],
    [{ subgroup: 10, wide: 9.5, regular: 20 }, 0, 'wide'],
    [{ subgroup: 10, wide: 9.5, regular: 8.6 }, 0.1, 'regular'],
    [{ subgroup: 10, wide: 9.5, regular: 9.1 }, 0.1, 'subgroup'],
    [{ wide: 9.5, regular: 20 }, 0.1, 'wide'],
    [{}, 0.1, null],
  ])('pickVariant(%o, [subgroup, wide, regular], %s) keeps %s', (timings, margin, kept) => {
    expect(pickVariant(timings, ['subgroup', 'wide', 'regular'], margin)).toBe(kept);
  });

  it('the store key changes with the adapter, the variants, the margin and their shader sources', async () => {
    const swift = adapter({ vendor: 'google', architecture: 'swiftshader' });
    const key = storeKey(swift, ['subgroup', 'wide']);
    expect(key).toContain('google / swiftshader');
    expect(storeKey(adapter({ vendor: 'mesa' }), ['subgroup', 'wide'])).not.toBe(key);
    expect(storeKey(swift, ['wide', 'subgroup'])).not.toBe(key);
    expect(storeKey(swift, ['subgroup', 'wide'], 0.1)).not.toBe(key);
    const { shaderSources } = await import('../../src/gpu/shaders.gen.js');
    const text = shaderSources.matmul_wide_subgroup;
    try {
      shaderSources.matmul_wide_subgroup = `${text}\n// changed`;
      expect(storeKey(swift, ['subgroup', 'wide'])).not.toBe(key);
      expect(storeKey(swift, ['regular'])).toBe(storeKey(swift, ['regular']));
    } finally {
      shaderSources.matmul_wide_subgroup = text;
    }
    expect(storeKey(swift, ['subgroup', 'wide'])).toBe(key);
  });

  it('SwiftShader runs subgroups of four, so the subgroup kernel is tested and chosen there', async () => {
    const engine = await createEngine({ matmul: 'regular' });
    engines.push(engine);
    if (!/swiftshader/i.test(engine.adapter.architecture + engine.adapter.description)) return;
    expect(engine.device.features.has('subgroups')).toBe(true);
    expect(await subgroupsOfFour(engine)).toBe(true);
    expect(await runnableVariants(engine)).toContain('subgroup');
  });

  it("a device without subgroups gets a kernel without them from 'auto', and a clear refusal of 'subgroup'", async () => {
    const device = await plainDevice();
    expect(device.features.has('subgroups')).toBe(false);
    await expect(createEngine({ device, matmul: 'subgroup' })).rejects.toThrow(
      "createEngine: matmul 'subgroup' needs the device feature 'subgroups', which this device does not have",
    );
    // The refusal leaves the caller's device as it was: not destroyed, good for the next try.
    const lost = await Promise.race([device.lost.then(() => 'lost'), new Promise((r) => setTimeout(r, 100, 'alive'))]);
    expect(lost).toBe('alive');
    const auto = await createEngine({ device });
    engines.push(auto);
    expect(auto.matmul.name).not.toBe('subgroup');
    if (runsOnCpu(auto.adapter)) expect(Object.keys(auto.matmulTimings ?? {}).sort()).toEqual(['regular', 'wide']);
  });

  it("a 'subgroup' fit whose replacement device has no subgroups recovers onto 'wide' and ends where it would have", async () => {
    const run = async (loseAt: number | null) => {
      const engine = await createEngine({ matmul: 'subgroup' });
      engines.push(engine);
      // A replacement device is asked for without 'subgroups', as from an adapter that stopped offering it.
      const proto = GPUAdapter.prototype;
      const requestDevice = proto.requestDevice;
      proto.requestDevice = function (this: GPUAdapter, descriptor?: GPUDeviceDescriptor) {
        const requiredFeatures = [...(descriptor?.requiredFeatures ?? [])].filter((f) => f !== 'subgroups');
        return requestDevice.call(this, { ...descriptor, requiredFeatures });
      };
      try {
        return { engine, ...(await lossyFit(engine, loseAt)) };
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
    expectSameParameters(broken.params, whole.params);
  });

  it("'auto' on a replacement device from another adapter is chosen again for that adapter, and the fit ends where it would have", async () => {
    await createEngine({ matmul: 'regular' }).then((e) => e.destroy()); // Dawn's globals and drivers
    const { create } = await import('webgpu');
    const real = create([]);
    gpus.push(real); // dawn.node tears an instance down, devices and all, when its object is collected
    // After the first, adapters describe themselves as another software adapter (SwiftShader underneath).
    const other = 'another software adapter';
    let asked = 0;
    const gpu = {
      requestAdapter: async (options?: GPURequestAdapterOptions) => {
        const adapter = await real.requestAdapter(options);
        if (!adapter || asked++ === 0) return adapter;
        const { vendor, architecture, device } = adapter.info;
        const info = { vendor, architecture, device, description: other, isFallbackAdapter: false };
        return new Proxy(adapter, {
          get: (target, key) => {
            if (key === 'info') return info;
            const value = Reflect.get(target, key, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      },
    } as unknown as GPU;
    const saved = new Map<string, TunedMatmul>();
    // Every other decision is 'wide', so that nothing is timed here.
    const store: TuningStore = {
      get: async (key) => saved.get(key) ?? { variant: 'wide', timings: { wide: 1 } },
      set: async () => {},
    };
    const engine = await createEngineFrom(gpu, {}, { store });
    engines.push(engine);
    // This adapter's decision: 'wide' from the store, or one an earlier test timed in this process.
    const before = engine.matmul.name;
    // The other adapter's decision differs from it.
    const runnable = await runnableVariants(engine);
    const names = CPU_VARIANTS.filter((n) => runnable.includes(n));
    const seeded: MatmulVariantName = before === 'regular' ? 'wide' : 'regular';
    const timings = { subgroup: 3, wide: 2, regular: 2, [seeded]: 1 };
    saved.set(storeKey({ ...engine.adapter, description: other }, names, AUTO_MARGIN), { variant: seeded, timings });
    const broken = await lossyFit(engine, 13);
    expect(broken.history.deviceLosses).toBe(1);
    expect(engine.adapter.description).toBe(other);
    expect(engine.matmul.name).toBe(seeded);
    expect(engine.matmulTimings).toEqual(timings);
    // The model's row limit follows the kernel's tile (rows a workgroup covers: 'subgroup' 16, 'regular' 64,
    // 'wide' 128) where the grid, not a binding of its widest layer (24 floats a row), sets it.
    const { limits } = engine;
    const grid = (name: MatmulVariantName) => limits.maxComputeWorkgroupsPerDimension * MATMUL_VARIANTS[name].rows;
    const byBinding = Math.floor(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / (4 * 24));
    expect(broken.rows).toEqual([Math.min(byBinding, grid(before)), Math.min(byBinding, grid(seeded))]);
    const unbroken = await createEngine({ matmul: before });
    engines.push(unbroken);
    expectSameParameters(broken.params, (await lossyFit(unbroken, null)).params);
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
      // And one step of sgdStep, whose update is built apart from fit's.
      model.sgdStep(data.x as Float32Array, data.y as Uint32Array, 0.05);
      results.push({ losses: history.epochs.map((e) => e.loss), params: await model.getParameters() });
    }
    const [regular, ...others] = results;
    for (const other of others) {
      expectClose(other.losses, regular.losses, { atol: 1e-5, rtol: 1e-4 }, 'epoch losses');
      expectSameParameters(other.params, regular.params);
    }
  });
});
