import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, type TensorEntry } from '../../src/io/safetensors.js';

/** A file assembled by hand from the spec: u64 LE header length, the header text as given, then the data. */
function file(header: string, data: ArrayLike<number> = []): Uint8Array {
  const text = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setUint32(0, text.length, true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

/** Little-endian float32 bytes. */
function f32(...values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  for (const [i, v] of values.entries()) view.setFloat32(4 * i, v, true);
  return out;
}

function bits(data: Float32Array): number[] {
  return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
}

const entry = (shape: unknown, offsets: unknown, dtype: unknown = 'F32') => ({ dtype, shape, data_offsets: offsets });
const ok = (shape: unknown, offsets: unknown, dtype?: unknown) => JSON.stringify({ w: entry(shape, offsets, dtype) });

function refuses(bytes: Uint8Array, kind: typeof RangeError | typeof TypeError, message: RegExp | string): void {
  let caught: unknown;
  try {
    decodeSafetensors(bytes);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(kind);
  expect((caught as Error).message).toMatch(message);
}

const nameArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 8 }).filter((n) => n !== '__metadata__'),
  fc.nat(20).map(String),
  fc.constantFrom('__proto__', 'constructor', 'toString', '0.weight'),
);

const tensorsArb: fc.Arbitrary<TensorEntry[]> = fc
  .uniqueArray(fc.record({ name: nameArb, shape: fc.array(fc.nat(3), { maxLength: 3 }) }), {
    selector: (t) => t.name,
    maxLength: 5,
  })
  .chain((list) =>
    fc.tuple(
      ...list.map(({ name, shape }) => {
        const n = shape.reduce((a, b) => a * b, 1);
        // Raw bit patterns, so NaN payloads, -0 and subnormals all travel.
        return fc
          .uint32Array({ minLength: n, maxLength: n })
          .map((u): TensorEntry => ({ name, shape, data: new Float32Array(u.buffer) }));
      }),
    ),
  );

const metadataArb = fc.option(
  fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }), {
    maxKeys: 3,
  }),
  { nil: undefined },
);

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Decodes untrusted bytes: either a RangeError/TypeError, or a result that accounts for every byte of the input
 * (tensors in data order tile the data section, each holding product(shape) values).
 */
function decodeOrRefuse(bytes: Uint8Array): void {
  let result: ReturnType<typeof decodeSafetensors>;
  try {
    result = decodeSafetensors(bytes);
  } catch (error) {
    if (!(error instanceof RangeError || error instanceof TypeError)) throw error;
    expect(error.message.startsWith('safetensors: ')).toBe(true);
    return;
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const data = bytes.subarray(8 + headerLength);
  let at = 0;
  for (const t of result.tensors) {
    expect(t.name).not.toBe('__metadata__');
    expect(t.data.length).toBe(product(t.shape));
    expect(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)).toEqual(
      data.subarray(at, at + t.data.byteLength),
    );
    at += t.data.byteLength;
  }
  expect(at).toBe(data.length);
  for (const value of Object.values(result.metadata)) expect(typeof value).toBe('string');
}

describe('encodeSafetensors / decodeSafetensors round trip', () => {
  it('keeps names, shapes, bit patterns, metadata and order, including empty and scalar tensors', () => {
    const tensors: TensorEntry[] = [
      { name: '10', shape: [2, 3], data: new Float32Array([1, -2, 0.5, Number.NaN, -0, 3e-45]) },
      { name: 'empty', shape: [0], data: new Float32Array(0) },
      { name: 'zeros', shape: [3, 0, 2], data: new Float32Array(0) },
      { name: 'scalar', shape: [], data: new Float32Array([Number.POSITIVE_INFINITY]) },
      { name: '2', shape: [1], data: new Float32Array([7]) },
    ];
    const metadata = { format: 'pt', note: 'héllo 🙂' };
    const bytes = encodeSafetensors(tensors, metadata);
    const out = decodeSafetensors(bytes);
    // Data order, not JSON key order, which would put integer-like names first.
    expect(out.tensors.map((t) => t.name)).toEqual(['10', 'empty', 'zeros', 'scalar', '2']);
    for (const [i, t] of out.tensors.entries()) {
      expect(t.shape).toEqual(tensors[i].shape);
      expect(bits(t.data)).toEqual(bits(tensors[i].data));
    }
    expect({ ...out.metadata }).toEqual(metadata);
  });

  it('writes the header padded with spaces to a multiple of 8, so the data is aligned', () => {
    const bytes = encodeSafetensors([{ name: 'w', shape: [1], data: new Float32Array([1]) }]);
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect(n % 8).toBe(0);
    expect(new DataView(bytes.buffer).getUint32(4, true)).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(header).toMatch(/^\{.*\} *$/);
    expect(JSON.parse(header)).toEqual({ w: entry([1], [0, 4]) });
    expect(bytes.length).toBe(8 + n + 4);
  });

  it('encodes byte for byte as the spec describes', () => {
    const bytes = encodeSafetensors(
      [
        { name: 'a', shape: [2], data: new Float32Array([1, -2]) },
        { name: 'b', shape: [1, 1], data: new Float32Array([0.5]) },
      ],
      { k: 'v' },
    );
    const json =
      '{"__metadata__":{"k":"v"},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
    expect(bytes).toEqual(file(padded, [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f]));
  });

  it('encodes an empty list as an empty header and no data', () => {
    const out = decodeSafetensors(encodeSafetensors([]));
    expect(out.tensors).toEqual([]);
    expect(Object.keys(out.metadata)).toEqual([]);
  });

  it('round-trips arbitrary tensors and metadata', () => {
    fc.assert(
      fc.property(tensorsArb, metadataArb, (tensors, metadata) => {
        const out = decodeSafetensors(encodeSafetensors(tensors, metadata));
        const byName = new Map(out.tensors.map((t) => [t.name, t]));
        expect(byName.size).toBe(tensors.length);
        for (const t of tensors) {
          expect(byName.get(t.name)?.shape).toEqual(t.shape);
          expect(bits(byName.get(t.name)!.data)).toEqual(bits(t.data));
        }
        // Only empty tensors share an offset, so everything else keeps its order.
        const nonEmpty = (list: TensorEntry[]) => list.filter((t) => t.data.length > 0).map((t) => t.name);
        expect(nonEmpty(out.tensors)).toEqual(nonEmpty(tensors));
        expect(Object.entries(out.metadata).sort()).toEqual(Object.entries(metadata ?? {}).sort());
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to encode inconsistent tensors', () => {
    const one = new Float32Array([1]);
    expect(() => encodeSafetensors([{ name: 'x', shape: [2], data: one }])).toThrow(RangeError);
    expect(() => encodeSafetensors([{ name: 'x', shape: [-1], data: one }])).toThrow(TypeError);
    expect(() =>
      encodeSafetensors([
        { name: 'x', shape: [1], data: one },
        { name: 'x', shape: [1], data: one },
      ]),
    ).toThrow(/used twice/);
    expect(() => encodeSafetensors([{ name: '__metadata__', shape: [1], data: one }])).toThrow(RangeError);
    expect(() => encodeSafetensors([{ name: '\ud800', shape: [1], data: one }])).toThrow(TypeError);
    expect(() => encodeSafetensors([], { k: 1 as unknown as string })).toThrow(TypeError);
  });
});

describe('decodeSafetensors on hand-built files', () => {
  const header =
    '{"b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]},' +
    '"__metadata__":{"format":"pt"},' +
    '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  // 1, -2, 0.5 as little-endian IEEE 754 single precision.
  const data = [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f];

  it('decodes an unpadded header (unaligned data), returning tensors in data order', () => {
    expect((8 + header.length) % 4).not.toBe(0);
    const out = decodeSafetensors(file(header, data));
    expect(out.tensors.map((t) => [t.name, t.shape, Array.from(t.data)])).toEqual([
      ['a', [2], [1, -2]],
      ['b', [1, 1], [0.5]],
    ]);
    expect({ ...out.metadata }).toEqual({ format: 'pt' });
    for (const t of out.tensors) expect(t.data.byteOffset % 4).toBe(0);
  });

  it('decodes from a view at an odd offset and copies the data out of it', () => {
    const bytes = file(header + '   \n', data);
    const host = new Uint8Array(bytes.length + 3);
    host.set(bytes, 3);
    const view = host.subarray(3);
    const out = decodeSafetensors(view);
    expect(Array.from(out.tensors[0].data)).toEqual([1, -2]);
    host.fill(0);
    expect(Array.from(out.tensors[0].data)).toEqual([1, -2]);
  });

  it('accepts an empty header object with no data', () => {
    expect(decodeSafetensors(file('{}')).tensors).toEqual([]);
  });

  it('treats "__proto__" as an ordinary name and key, polluting nothing', () => {
    const json = '{"__metadata__":{"__proto__":"x"},"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const out = decodeSafetensors(file(json, f32(3)));
    expect(out.tensors[0].name).toBe('__proto__');
    expect(Object.entries(out.metadata)).toEqual([['__proto__', 'x']]);
    expect(Object.getPrototypeOf(out.metadata)).toBe(null);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });
});

describe('decodeSafetensors refusals', () => {
  it('refuses input shorter than the length field', () => {
    refuses(new Uint8Array(0), RangeError, /at least 8 bytes.*got 0/);
    refuses(new Uint8Array(7), RangeError, /at least 8 bytes.*got 7/);
  });

  it('refuses a header length beyond the input', () => {
    const bytes = file('{}');
    bytes[0] = 3;
    refuses(bytes, RangeError, /header length 3 exceeds the 2 bytes/);
  });

  it('refuses a header length of 2^60 at once, without allocating', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 60n, true);
    const start = performance.now();
    refuses(bytes, RangeError, `header length ${2n ** 60n} exceeds the 8 bytes`);
    expect(performance.now() - start).toBeLessThan(100);
  });

  it('refuses a header longer than maxHeaderBytes', () => {
    const bytes = file('{}' + ' '.repeat(98));
    expect(() => decodeSafetensors(bytes, { maxHeaderBytes: 99 })).toThrow(
      /header length 100 exceeds maxHeaderBytes 99/,
    );
    expect(decodeSafetensors(bytes, { maxHeaderBytes: 100 }).tensors).toEqual([]);
    expect(() => decodeSafetensors(bytes, { maxHeaderBytes: -1 })).toThrow(TypeError);
  });

  it('refuses input that is not a Uint8Array', () => {
    expect(() => decodeSafetensors([1, 2, 3] as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('refuses a header that is not UTF-8', () => {
    const bytes = file('{"\u00e9":1}');
    bytes[11] = 0xff;
    refuses(bytes, TypeError, /not valid UTF-8/);
  });

  it('refuses a header that is not JSON, or starts with a byte order mark or whitespace', () => {
    refuses(file('{"w":'), TypeError, /not valid JSON/);
    refuses(file(''), TypeError, /must start with "\{"/);
    refuses(file('\ufeff{}'), TypeError, /must start with "\{"/);
    refuses(file(' {}'), TypeError, /must start with "\{"/);
  });

  it('refuses a header whose top level is not an object', () => {
    refuses(file('[]'), TypeError, /must start with/);
    refuses(file('{}[]'), TypeError, /not valid JSON/);
    refuses(file('null'), TypeError, /must start with/);
  });

  it('refuses an entry that is not an object', () => {
    refuses(file('{"w":[1,2]}'), TypeError, /tensor "w" must be an object.*got \[1,2\]/);
    refuses(file('{"w":null}'), TypeError, /tensor "w" must be an object/);
  });

  it('refuses missing or extra fields', () => {
    refuses(file('{"w":{"dtype":"F32","shape":[]}}'), TypeError, /exactly the fields.*\["dtype","shape"\]/);
    const extra = JSON.stringify({ w: { ...entry([1], [0, 4]), offset: 0 } });
    refuses(file(extra, f32(1)), TypeError, /exactly the fields/);
  });

  it('refuses a dtype other than F32, naming it and the tensor', () => {
    refuses(file(ok([2], [0, 4], 'F16'), [0, 0, 0, 0]), RangeError, 'tensor "w" has dtype "F16", but only "F32"');
    refuses(file(ok([1], [0, 4], 'f32'), f32(1)), RangeError, /dtype "f32"/);
    refuses(file(ok([1], [0, 4], 32), f32(1)), TypeError, /dtype must be a string, got 32/);
  });

  it('refuses shapes that are not arrays of non-negative safe integers', () => {
    for (const shape of ['1', [-1], [1.5], ['1'], [null], [2 ** 53], { 0: 1 }]) {
      refuses(file(ok(shape, [0, 0])), TypeError, /tensor "w" shape must be an array of non-negative integers/);
    }
  });

  it('refuses a shape that disagrees with the data_offsets span', () => {
    const json = JSON.stringify({ '0.weight': entry([3, 4], [0, 40]) });
    refuses(
      file(json, new Uint8Array(40)),
      RangeError,
      'safetensors: tensor "0.weight" has shape [3,4] (48 bytes) but data_offsets span 40 bytes',
    );
    refuses(file(ok([0], [0, 4]), f32(1)), RangeError, /\(0 bytes\) but data_offsets span 4/);
  });

  it('refuses huge shapes at once, without allocating', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const start = performance.now();
    refuses(file(ok([max, max], [0, 4]), f32(1)), RangeError, /shape \[.*\] \(.* bytes\) but data_offsets span 4/);
    refuses(file(ok(Array(40).fill(max), [0, 4]), f32(1)), RangeError, /Infinity bytes/);
    expect(performance.now() - start).toBeLessThan(100);
    // A zero dimension makes the tensor empty however large the others are.
    expect(decodeSafetensors(file(ok([...Array(40).fill(max), 0], [0, 0]))).tensors[0].data.length).toBe(0);
  });

  it('refuses malformed data_offsets', () => {
    for (const offsets of [null, 4, [0], [0, 4, 8], [-4, 0], [0, 4.5], ['0', '4'], [0, 2 ** 53]]) {
      refuses(file(ok([1], offsets), f32(1)), TypeError, /data_offsets must be \[begin, end\]/);
    }
  });

  it('refuses data_offsets reversed or past the data section', () => {
    refuses(file(ok([0], [4, 0]), f32(1)), RangeError, /data_offsets \[4,0\], outside the 4-byte data section/);
    refuses(file(ok([2], [0, 8]), f32(1)), RangeError, /data_offsets \[0,8\], outside the 4-byte data section/);
  });

  it('refuses tensors that leave a gap, overlap, or do not cover the data', () => {
    const two = (a: number[], b: number[]) => JSON.stringify({ a: entry([1], a), b: entry([1], b) });
    refuses(file(two([0, 4], [8, 12]), new Uint8Array(12)), RangeError, /"b" starts at byte 8, expected 4.*gap/);
    refuses(file(two([4, 8], [8, 12]), new Uint8Array(12)), RangeError, /"a" starts at byte 4, expected 0.*gap/);
    refuses(file(two([0, 4], [0, 4]), f32(1)), RangeError, /starts at byte 0, expected 4.*overlaps/);
    const wide = JSON.stringify({ a: entry([2], [0, 8]), b: entry([1], [4, 8]) });
    refuses(file(wide, new Uint8Array(8)), RangeError, /"b" starts at byte 4, expected 8.*overlaps/);
    refuses(file(ok([1], [0, 4]), new Uint8Array(5)), RangeError, /cover 4 bytes but the data section has 5/);
    refuses(file('{}', [0]), RangeError, /cover 0 bytes but the data section has 1/);
  });

  it('refuses metadata that is not an object of strings', () => {
    refuses(file('{"__metadata__":["a"]}'), TypeError, /__metadata__ must be an object of strings/);
    refuses(file('{"__metadata__":null}'), TypeError, /__metadata__ must be an object of strings/);
    refuses(file('{"__metadata__":{"k":1}}'), TypeError, /metadata "k" must be a string, got 1/);
  });

  it('refuses names and metadata with unpaired surrogates', () => {
    refuses(file(JSON.stringify({ '\ud800': entry([], [0, 4]) }), f32(1)), TypeError, /unpaired surrogate/);
    refuses(file('{"__metadata__":{"k":"\\udc00"}}'), TypeError, /unpaired surrogate/);
  });
});

describe('untrusted names and values', () => {
  it('treats every Object.prototype name as an ordinary tensor name and metadata key', () => {
    const names = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'];
    const header = [
      '"__metadata__":{' + names.map((k) => `"${k}":"${k}!"`).join(',') + '}',
      ...names.map((name, i) => `"${name}":${JSON.stringify(entry([1], [4 * i, 4 * i + 4]))}`),
    ];
    const out = decodeSafetensors(file('{' + header.join(',') + '}', f32(...names.map((_, i) => i))));
    expect(out.tensors.map((t) => [t.name, t.data[0]])).toEqual(names.map((name, i) => [name, i]));
    expect(Object.keys(out.metadata)).toEqual(names);
    for (const name of names) expect(Object.getOwnPropertyDescriptor(out.metadata, name)?.value).toBe(`${name}!`);
    expect(Object.getPrototypeOf(out.metadata)).toBe(null);
    // A file that lists "__proto__" under __metadata__ as an object is refused, not merged into a prototype.
    refuses(file('{"__metadata__":{"__proto__":{"k":"v"}}}'), TypeError, /metadata "__proto__" must be a string/);
    expect('k' in {}).toBe(false);
  });

  it('refuses deeply nested values with a clear message, not a stack overflow', () => {
    const deep = '['.repeat(20000) + ']'.repeat(20000);
    const cases: [string, RegExp][] = [
      [`{"w":${deep}}`, /^safetensors: tensor "w" must be an object .*got an array nested too deeply to show$/],
      [`{"__metadata__":{"k":${deep}}}`, /^safetensors: metadata "k" must be a string, got an array nested too/],
      [`{"__metadata__":${deep}}`, /^safetensors: __metadata__ must be an object of strings, got an array nested/],
      [`{"w":{"dtype":${deep},"shape":[],"data_offsets":[0,0]}}`, /^safetensors: tensor "w" dtype must be a string/],
      [`{"w":{"dtype":"F32","shape":${deep},"data_offsets":[0,0]}}`, /^safetensors: tensor "w" shape must be an/],
    ];
    for (const [header, message] of cases) refuses(file(header), TypeError, message);
  });

  it('shows non-finite numbers as themselves, not as JSON null', () => {
    refuses(
      file('{"w":{"dtype":1e999,"shape":[1],"data_offsets":[0,4]}}', f32(1)),
      TypeError,
      /dtype must be a string, got Infinity$/,
    );
    refuses(file('{"__metadata__":{"k":-1e999}}'), TypeError, /metadata "k" must be a string, got -Infinity$/);
  });

  it('refuses to encode metadata that is not a plain object, and tensors that are not a list of objects', () => {
    const bad = [new Map([['k', 'v']]), new (class Meta {})(), ['v'], new Date(0)];
    for (const metadata of bad) {
      expect(() => encodeSafetensors([], metadata as unknown as Record<string, string>)).toThrow(
        /^safetensors: metadata must be an object of strings/,
      );
    }
    expect(Object.keys(decodeSafetensors(encodeSafetensors([], Object.create(null))).metadata)).toEqual([]);
    const tensors = [{}, null, 'w', undefined] as unknown as TensorEntry[][];
    expect(() => encodeSafetensors(tensors[0])).toThrow(/^safetensors: tensors must be an array/);
    for (const t of tensors.slice(1)) {
      expect(() => encodeSafetensors([t as unknown as TensorEntry])).toThrow(
        /^safetensors: each tensor must be an object/,
      );
    }
  });
});

describe('decodeSafetensors fuzzing', () => {
  const nasty = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(-1, -0, 0.5, 2 ** 53, 2 ** 60, 1e308, 'F32', 'F16', '__proto__', [], {}, [0, 0]),
    fc.integer({ min: -2, max: 64 }),
  );

  it('survives arbitrary bytes', () => {
    const lengthPrefixed = fc
      .tuple(fc.nat(40), fc.uint8Array({ maxLength: 48 }))
      .map(([n, rest]) => Uint8Array.of(n, 0, 0, 0, 0, 0, 0, 0, ...rest));
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), lengthPrefixed), decodeOrRefuse), {
      numRuns: 1500,
    });
  });

  it('survives valid files with mutated, truncated or extended bytes', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
    );
    fc.assert(
      fc.property(tensorsArb, metadataArb, fc.array(mutation, { minLength: 1, maxLength: 3 }), (t, meta, ms) => {
        let bytes = encodeSafetensors(t, meta);
        for (const m of ms) {
          const at = bytes.length === 0 ? 0 : 'at' in m ? m.at % bytes.length : 0;
          if (m.kind === 'set' && bytes.length > 0) bytes[at] = m.value;
          if (m.kind === 'truncate') bytes = bytes.slice(0, at);
          if (m.kind === 'extend') bytes = Uint8Array.of(...bytes, ...m.extra);
          if (m.kind === 'delete') bytes = Uint8Array.of(...bytes.subarray(0, at), ...bytes.subarray(at + m.count));
        }
        decodeOrRefuse(bytes);
      }),
      { numRuns: 1500 },
    );
  });

  it('survives valid-looking headers with random JSON values in their fields', () => {
    const field = fc.constantFrom('dtype', 'shape', 'shape[0]', 'data_offsets', 'begin', 'end', 'entry', 'extra');
    const where = fc.constantFrom('tensor', 'metadata', 'metadata value', 'header');
    fc.assert(
      fc.property(tensorsArb, where, field, fc.nat(), nasty, (tensors, place, name, pick, value) => {
        const bytes = encodeSafetensors(tensors, { k: 'v' });
        const n = new DataView(bytes.buffer).getUint32(0, true);
        const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
        const names = Object.keys(header).filter((k) => k !== '__metadata__');
        if (place === 'metadata') header['__metadata__'] = value;
        else if (place === 'metadata value') header['__metadata__']['k'] = value;
        else if (place === 'header') {
          const key = typeof value === 'string' ? value : JSON.stringify(value);
          Object.defineProperty(header, key, { value, enumerable: true, configurable: true, writable: true });
        } else if (names.length > 0) {
          const e = header[names[pick % names.length]];
          if (name === 'dtype' || name === 'shape' || name === 'data_offsets') e[name] = value;
          else if (name === 'shape[0]') e.shape[0] = value;
          else if (name === 'begin') e.data_offsets[0] = value;
          else if (name === 'end') e.data_offsets[1] = value;
          else if (name === 'entry') header[names[pick % names.length]] = value;
          else e.extra = value;
        }
        decodeOrRefuse(file(JSON.stringify(header), bytes.subarray(8 + n)));
      }),
      { numRuns: 1500 },
    );
  });
});
