// Model files: save() and engine.load() round-trip parameters and optimizer state in safetensors with
// nn.Sequential names; untrusted files are refused with clear errors before anything is allocated.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LayerParameters, OptimizerOptions } from '../../src/core/types.js';
import { decodeModel, encodeModel, type ModelSpec, type OptimizerSnapshot } from '../../src/io/model-file.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { randomArray } from '../reference/check.js';
import { useEngine } from '../gpu.js';

const n = 40;
const x = Float32Array.from(randomArray(n * 3, 5));
const y = Uint32Array.from({ length: n }, (_, i) => i % 4);

// CPU only: decodeModel is plain data in, plain data out.
const spec: ModelSpec = { sizes: [3, 4, 2], activations: ['relu', 'identity'], loss: 'cross_entropy' };

function layers(seed: number): LayerParameters[] {
  return [
    { weight: Float32Array.from(randomArray(12, seed)), bias: Float32Array.from(randomArray(4, seed + 1)) },
    { weight: Float32Array.from(randomArray(8, seed + 2)), bias: Float32Array.from(randomArray(2, seed + 3)) },
  ];
}

const adam: OptimizerSnapshot = {
  options: { learningRate: 0.01, type: 'adamw', weightDecay: 0.1, beta1: 0.8 },
  clipNorm: 1.5,
  step: 7,
  state: [layers(20), layers(30)],
};
const good = encodeModel(spec, layers(10), adam);

/** `bytes` with metadata fields replaced (or removed, for undefined), tensors unchanged. */
function withMetadata(bytes: Uint8Array, changes: Record<string, string | undefined>): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const next: Record<string, string> = Object.create(null);
  for (const [key, value] of [...Object.entries(metadata), ...Object.entries(changes)]) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  return encodeSafetensors(tensors, next);
}

/** The good file with the optimizer options replaced by this JSON text. */
const withOptimizer = (json: string) => withMetadata(good, { optimizer: json });

function refuses(bytes: Uint8Array, kind: typeof RangeError | typeof TypeError, message: RegExp): void {
  let caught: unknown;
  try {
    decodeModel(bytes);
  } catch (error) {
    caught = error;
  }
  expect(caught, String(caught)).toBeInstanceOf(kind);
  expect((caught as Error).message).toMatch(message);
  // Bounded, whatever the file holds.
  expect((caught as Error).message.length).toBeLessThan(400);
  for (const key of ['type', 'learningRate', 'momentum', 'x']) expect(key in {}).toBe(false);
}

describe('decodeModel', () => {
  it('round-trips architecture, parameters and optimizer state, with the options in their order', () => {
    const file = decodeModel(good);
    expect(file.sizes).toEqual([3, 4, 2]);
    expect(file.activations).toEqual(['relu', 'identity']);
    expect(file.loss).toBe('cross_entropy');
    expect(file.params).toEqual(layers(10));
    expect(file.optimizer).toEqual(adam);
    // Same order as given: the optimizer is keyed by JSON.stringify(options), so a resumed fit keeps its state.
    expect(JSON.stringify(file.optimizer?.options)).toBe(JSON.stringify(adam.options));
    expect(Object.getPrototypeOf(file.optimizer?.options)).toBe(Object.prototype);
    const plain = decodeModel(encodeModel({ ...spec, loss: 'mse' }, layers(10), null));
    expect(plain.optimizer).toBe(null);
    expect(plain.loss).toBe('mse');
  });

  it('keeps clip_norm out when none was set and writes only the options the type takes', () => {
    const options = { type: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: true, beta1: 0.5 };
    const bytes = encodeModel(spec, layers(1), {
      options: options as unknown as OptimizerOptions,
      step: 0,
      state: [],
    });
    const file = decodeModel(bytes);
    expect(file.optimizer).toEqual({
      options: { type: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: true },
      step: 0,
      state: [],
    });
    expect(file.optimizer && 'clipNorm' in file.optimizer).toBe(false);
  });

  it('refuses optimizer types that are not own entries (constructor, __proto__, toString)', () => {
    for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'SGD', '']) {
      refuses(
        withOptimizer(JSON.stringify({ type, learningRate: 0.1 })),
        TypeError,
        new RegExp(`^load: metadata\\.optimizer\\.type must be one of sgd, adam, adamw, got "${type}"$`),
      );
    }
    refuses(withOptimizer('{"learningRate":0.1}'), TypeError, /optimizer\.type must be one of .*got undefined/);
    refuses(withOptimizer('{"type":1,"learningRate":0.1}'), TypeError, /optimizer\.type must be one of .*got 1/);
  });

  it('refuses optimizer options that are not a plain JSON object', () => {
    for (const json of ['"sgd"', 'null', '[]', '["sgd", 0.1]', '3']) {
      refuses(withOptimizer(json), TypeError, /^load: metadata\.optimizer must be a JSON object \{ type, learningRate/);
    }
    refuses(withOptimizer('{"type":'), TypeError, /metadata\.optimizer is not valid JSON/);
  });

  it("refuses unknown optimizer keys, so a file cannot smuggle __proto__ or another type's options", () => {
    const cases: [string, string][] = [
      ['{"type":"sgd","learningRate":0.1,"__proto__":{"momentum":0.9}}', '"__proto__"'],
      ['{"type":"sgd","learningRate":0.1,"constructor":{}}', '"constructor"'],
      ['{"type":"adam","learningRate":0.1,"momentum":0.9}', '"momentum"'],
      ['{"type":"sgd","learningRate":0.1,"beta1":0.9}', '"beta1"'],
      ['{"type":"adamw","learningRate":0.1,"lr":0.1}', '"lr"'],
    ];
    for (const [json, key] of cases) {
      refuses(withOptimizer(json), TypeError, new RegExp(`^load: metadata\\.optimizer has the unknown key ${key}; `));
    }
  });

  it('refuses optimizer numbers that are not finite or out of range, naming the field', () => {
    const range: [string, RegExp][] = [
      ['{"type":"adam","learningRate":0.1,"beta1":2}', /optimizer\.beta1 must be a number in \[0, 1\), got 2$/],
      ['{"type":"adam","learningRate":0.1,"beta2":1}', /optimizer\.beta2 must be a number in \[0, 1\), got 1$/],
      ['{"type":"adam","learningRate":0.1,"beta1":-0.1}', /optimizer\.beta1 must be a number in \[0, 1\)/],
      ['{"type":"adam","learningRate":1e999}', /optimizer\.learningRate must be a finite number >= 0, got Infinity$/],
      ['{"type":"adam","learningRate":-1}', /optimizer\.learningRate must be a finite number >= 0, got -1/],
      ['{"type":"adam","learningRate":0.1,"eps":0}', /optimizer\.eps must be a finite number > 0, got 0/],
      ['{"type":"adamw","learningRate":0.1,"weightDecay":-1}', /optimizer\.weightDecay must be a finite number >= 0/],
      ['{"type":"sgd","learningRate":0.1,"momentum":-0.5}', /optimizer\.momentum must be a finite number >= 0/],
      ['{"type":"sgd","learningRate":0.1,"nesterov":true}', /optimizer\.nesterov needs momentum > 0/],
    ];
    for (const [json, message] of range) refuses(withOptimizer(json), RangeError, message);
    const kind: [string, RegExp][] = [
      ['{"type":"adam","learningRate":"x"}', /optimizer\.learningRate must be a finite number >= 0, got "x"$/],
      ['{"type":"adam","learningRate":null}', /optimizer\.learningRate must be a finite number >= 0, got null$/],
      ['{"type":"adam","learningRate":0.1,"beta1":"0.9"}', /optimizer\.beta1 must be a number in \[0, 1\), got "0\.9"/],
      ['{"type":"sgd","learningRate":0.1,"momentum":0.9,"nesterov":"yes"}', /optimizer\.nesterov must be a boolean/],
      ['{"type":"sgd","learningRate":0.1,"momentum":[0.9]}', /optimizer\.momentum must be a finite number >= 0/],
      ['{"type":"sgd"}', /^load: metadata\.optimizer\.learningRate is missing$/],
    ];
    for (const [json, message] of kind) refuses(withOptimizer(json), TypeError, message);
  });

  it('refuses clip_norm unless it is a finite number > 0', () => {
    for (const text of ['abc', '', ' 1', '0x10', 'Infinity', '-Infinity', 'NaN', '1,5']) {
      refuses(
        withMetadata(good, { clip_norm: text }),
        TypeError,
        new RegExp(`^load: metadata\\.clip_norm must be a finite number > 0 in decimal, got ${JSON.stringify(text)}`),
      );
    }
    for (const text of ['-1', '0', '-0', '1e999']) {
      refuses(
        withMetadata(good, { clip_norm: text }),
        RangeError,
        new RegExp(`^load: metadata\\.clip_norm must be a finite number > 0, got "${text}"$`),
      );
    }
    expect(decodeModel(withMetadata(good, { clip_norm: '2.5e-1' })).optimizer?.clipNorm).toBe(0.25);
  });

  it('refuses optimizer_step unless it is an integer >= 0, and optimizer fields without an optimizer', () => {
    for (const text of ['', '-1', '1.5', '0x10', '1e3', 'abc', '9007199254740993', undefined]) {
      refuses(
        withMetadata(good, { optimizer_step: text }),
        RangeError,
        /^load: metadata\.optimizer_step must be an integer >= 0, got /,
      );
    }
    const plain = encodeModel(spec, layers(1), null);
    refuses(
      withMetadata(plain, { clip_norm: '1' }),
      TypeError,
      /metadata\.clip_norm is given without metadata\.optimizer/,
    );
    refuses(withMetadata(plain, { optimizer_step: '3' }), TypeError, /metadata\.optimizer_step is given without/);
  });

  it('refuses activations and losses that are not among the known ones', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'swish', 'Relu']) {
      refuses(
        withMetadata(good, { activations: JSON.stringify([name, 'identity']) }),
        TypeError,
        new RegExp(`^load: metadata\\.activations\\[0\\] = "${name}" is not one of identity, relu, `),
      );
    }
    refuses(withMetadata(good, { activations: '["relu",7]' }), TypeError, /activations\[1\] = 7 is not one of/);
    refuses(withMetadata(good, { activations: '{"0":"relu"}' }), TypeError, /activations must be a list of 2 names/);
    refuses(
      withMetadata(good, { activations: '["relu"]' }),
      RangeError,
      /^load: metadata\.activations must have 2 entries \(one per layer for sizes \[3,4,2\]\), got 1$/,
    );
    for (const loss of ['valueOf', 'constructor', '__proto__', 'MSE', '']) {
      refuses(
        withMetadata(good, { loss }),
        TypeError,
        new RegExp(`^load: metadata\\.loss "${loss}" is not one of cross_entropy, mse, binary_cross_entropy$`),
      );
    }
    refuses(withMetadata(good, { loss: undefined }), TypeError, /^load: metadata\.loss is missing$/);
  });

  it('refuses a cross-entropy loss after an activation other than identity', () => {
    const softmax = withMetadata(good, { activations: '["relu","softmax"]' });
    refuses(softmax, TypeError, /loss cross_entropy applies its own softmax, .*must be 'identity', got 'softmax'/);
    const bce = withMetadata(good, { activations: '["relu","sigmoid"]', loss: 'binary_cross_entropy' });
    refuses(bce, TypeError, /loss binary_cross_entropy applies its own sigmoid, .*got 'sigmoid'/);
    const mse = decodeModel(withMetadata(good, { activations: '["relu","sigmoid"]', loss: 'mse' }));
    expect(mse.activations).toEqual(['relu', 'sigmoid']);
  });

  it('bounds the parameter count by the tensors present: huge sizes fail on the first shape', () => {
    const start = performance.now();
    refuses(
      withMetadata(good, { sizes: `[3, ${2 ** 52}, 2]` }),
      RangeError,
      /0\.weight must have shape \[4503599627370496, 3\] for sizes \[3,4503599627370496,2\], got \[4,3\]/,
    );
    refuses(
      withMetadata(good, { sizes: '[3, 4, 2, 2]', activations: '["relu","relu","identity"]' }),
      RangeError,
      /4\.weight is missing/,
    );
    for (const sizes of ['[3]', '[3, 0]', '[3, 1.5]', '[3, -1]', `[3, ${2 ** 53}]`, '"3,4,2"', '{"0":3,"1":2}']) {
      refuses(
        withMetadata(good, { sizes }),
        RangeError,
        /^load: metadata\.sizes must be a list of at least two integers >= 1/,
      );
    }
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('keeps messages short and clear for huge or deeply nested values', () => {
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    refuses(
      withMetadata(good, { sizes: '[' + '1,'.repeat(200000) + '0]' }),
      RangeError,
      /sizes must be a list.*\.\.\.$/,
    );
    refuses(withMetadata(good, { activations: `["relu",${deep}]` }), TypeError, /activations\[1\] = .* is not one of/);
    refuses(withOptimizer(`{"type":"sgd","learningRate":${deep}}`), TypeError, /optimizer\.learningRate must be/);
    refuses(withMetadata(good, { activations: deep }), RangeError, /activations must have 2 entries/);
    refuses(withMetadata(good, { format: 'x'.repeat(100000) }), TypeError, /metadata\.format must be "webgrad-mlp"/);
  });

  it('refuses tensors named like prototype keys as unexpected', () => {
    const { tensors, metadata } = decodeSafetensors(good);
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const extra = [...tensors, { name, shape: [1], data: new Float32Array(1) }];
      refuses(
        encodeSafetensors(extra, { ...metadata }),
        RangeError,
        new RegExp(`^load: unexpected tensors ${name} for sizes`),
      );
    }
  });
});

describe('model files on an engine', async () => {
  const engine = await useEngine();

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
