// Model files: save() and engine.load() round-trip parameters and optimizer state in safetensors with
// nn.Sequential names; untrusted files are refused with clear errors before anything is allocated.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { randomArray } from './reference/check.js';
import { useEngine } from './gpu.js';

const engine = await useEngine();
const n = 40;
const x = Float32Array.from(randomArray(n * 3, 5));
const y = Uint32Array.from({ length: n }, (_, i) => i % 4);

describe('model files', () => {
  it('names tensors as torch.nn.Sequential and keeps the architecture in the metadata', async () => {
    const model = engine.mlp({
      sizes: [3, 6, 5, 4],
      activations: ['relu', 'tanh', 'identity'],
      loss: 'cross_entropy',
      seed: 1,
    });
    const { tensors, metadata } = decodeSafetensors(await model.save());
    expect(tensors.map((t) => `${t.name}:${t.shape}`)).toEqual([
      '0.weight:6,3',
      '0.bias:6',
      '2.weight:5,6',
      '2.bias:5',
      '4.weight:4,5',
      '4.bias:4',
    ]);
    expect(JSON.parse(metadata.sizes)).toEqual([3, 6, 5, 4]);
    expect(JSON.parse(metadata.activations)).toEqual(['relu', 'tanh', 'identity']);
    expect(metadata.loss).toBe('cross_entropy');
    model.dispose();
  });

  it('round-trips parameters and optimizer state: training resumes exactly', async () => {
    const opts = { batchSize: 8, shuffle: false, optimizer: { type: 'adamw', learningRate: 0.01 } as const };
    const a = engine.mlp({ sizes: [3, 6, 4], activations: ['gelu', 'identity'], loss: 'cross_entropy', seed: 2 });
    await a.fit({ x, y }, opts);
    const bytes = await a.save({ optimizer: true });
    const b = await engine.load(bytes);
    expect(await b.getParameters()).toEqual(await a.getParameters());
    expect(b.stepCount).toBe(a.stepCount);
    const la: number[] = [];
    const lb: number[] = [];
    await a.fit({ x, y }, { ...opts, onStep: (s) => la.push(s.loss) });
    await b.fit({ x, y }, { ...opts, onStep: (s) => lb.push(s.loss) });
    expect(lb).toEqual(la);
    expect(await b.getParameters()).toEqual(await a.getParameters());
    a.dispose();
    b.dispose();
  });

  it('refuses files whose tensors do not match the architecture, without building a model', async () => {
    const good = await engine.mlp({ sizes: [3, 4, 2], activations: ['relu', 'identity'], loss: 'mse' }).save();
    const { tensors, metadata } = decodeSafetensors(good);
    const before = engine.memory();
    const cases: [string, Uint8Array, RegExp][] = [
      [
        'huge sizes',
        encodeSafetensors(tensors, { ...metadata, sizes: '[3, 1000000000, 2]' }),
        /must have shape \[1000000000, 3\]/,
      ],
      ['missing tensor', encodeSafetensors(tensors.slice(1), metadata), /0\.weight is missing/],
      [
        'extra tensor',
        encodeSafetensors([...tensors, { name: '9.weight', shape: [1], data: new Float32Array(1) }], metadata),
        /unexpected tensors 9\.weight/,
      ],
      ['wrong format', encodeSafetensors(tensors, { ...metadata, format: 'other' }), /metadata\.format/],
      ['bad json', encodeSafetensors(tensors, { ...metadata, sizes: '[3,' }), /not valid JSON/],
      [
        'unknown activation',
        encodeSafetensors(tensors, { ...metadata, activations: '["relu","swish"]' }),
        /not one of/,
      ],
      ['truncated', good.subarray(0, good.length - 3), /safetensors/],
    ];
    for (const [label, bytes, message] of cases) {
      await expect(engine.load(bytes), label).rejects.toThrow(message);
    }
    expect(engine.memory()).toEqual(before);
  });

  it('survives random mutations: every refusal is a TypeError or RangeError, nothing leaks', async () => {
    const good = await engine
      .mlp({ sizes: [2, 3, 2], activations: ['relu', 'identity'], loss: 'cross_entropy' })
      .save();
    const before = engine.memory().buffers;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        async (edits) => {
          const bytes = good.slice();
          for (const [at, v] of edits) bytes[at] = v;
          try {
            const m = await engine.load(bytes);
            m.dispose();
          } catch (error) {
            expect(error instanceof TypeError || error instanceof RangeError, String(error)).toBe(true);
          }
        },
      ),
      { numRuns: 300, seed: 1 },
    );
    expect(engine.memory().buffers).toBe(before);
  });
});
