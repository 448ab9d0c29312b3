// Preprocessing in model files: written as JSON in metadata.preprocessing, read back as untrusted input.
import { describe, expect, it } from 'vitest';
import type { LayerParameters } from '../../src/core/types.js';
import { decodeModel, encodeModel, type ModelSpec } from '../../src/io/model-file.js';
import { checkPreprocessing, featureColumns, type Preprocessing } from '../../src/io/preprocessing.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';

const spec: ModelSpec = { sizes: [2, 3, 3], activations: ['relu', 'identity'], loss: 'cross_entropy' };
const params: LayerParameters[] = [
  { weight: new Float32Array(6).fill(0.5), bias: new Float32Array(3) },
  { weight: new Float32Array(9).fill(-0.25), bias: new Float32Array(3) },
];
const iris: Preprocessing = {
  task: 'classification',
  features: ['petal_length', 'petal_width'],
  mean: [3.7, 1.2],
  std: [1.7, 0.76],
  impute: 'median',
  fill: [4.35, 1.3],
  labels: ['species'],
  classes: ['setosa', 'versicolor', 'virginica'],
};

// Inputs: x, then colour one-hot encoded into 3 indicators, then y; 3 classes.
const oneHotSpec: ModelSpec = { ...spec, sizes: [5, 3, 3] };
const oneHotParams: LayerParameters[] = [
  { weight: new Float32Array(15).fill(0.5), bias: new Float32Array(3) },
  params[1],
];
const coloured: Preprocessing = {
  task: 'classification',
  features: ['x', 'colour=blue', 'colour=green', 'colour=red', 'y'],
  oneHot: [{ column: 'colour', start: 1, categories: ['blue', 'green', 'red'] }],
  mean: [3.7, 0, 0, 0, 1.2],
  std: [1.7, 1, 1, 1, 0.76],
  impute: 'mean',
  fill: [3.7, 0, 1, 0, 1.2],
  labels: ['species'],
  classes: ['setosa', 'versicolor', 'virginica'],
};

function withPreprocessing(json: string, base = iris): Uint8Array {
  const oneHot = base === coloured;
  const bytes = encodeModel(oneHot ? oneHotSpec : spec, oneHot ? oneHotParams : params, null, base);
  const { tensors, metadata } = decodeSafetensors(bytes);
  return encodeSafetensors(tensors, { ...metadata, preprocessing: json });
}

function refuses(json: string, kind: typeof TypeError | typeof RangeError, message: RegExp, base = iris): void {
  let caught: unknown;
  try {
    decodeModel(withPreprocessing(json, base));
  } catch (error) {
    caught = error;
  }
  expect(caught, `${json}: ${caught}`).toBeInstanceOf(kind);
  expect((caught as Error).message).toMatch(message);
  expect((caught as Error).message.length).toBeLessThan(400);
  for (const key of ['task', 'features', 'classes', 'polluted']) expect(key in {}).toBe(false);
}

describe('preprocessing in model files', () => {
  it('round-trips, and is absent from files without it', () => {
    const bytes = encodeModel(spec, params, null, iris);
    expect(decodeModel(bytes).preprocessing).toEqual(iris);
    expect(decodeModel(encodeModel(spec, params, null)).preprocessing).toBe(null);
    // Tensors keep their nn.Sequential names: PyTorch still loads them strictly.
    expect(decodeSafetensors(bytes).tensors.map((t) => t.name)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
  });

  it('round-trips one-hot columns; PyTorch still loads the tensors strictly', () => {
    const bytes = encodeModel(oneHotSpec, oneHotParams, null, coloured);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(decodeModel(bytes).preprocessing).toEqual(coloured);
    // Metadata holds strings only, as safetensors (and torch's load_file) require.
    expect(Object.values(metadata).every((v) => typeof v === 'string')).toBe(true);
    expect(JSON.parse(metadata.preprocessing).oneHot).toEqual(coloured.oneHot);
    expect(tensors.map((t) => `${t.name}:${t.shape}`)).toEqual([
      '0.weight:3,5',
      '0.bias:3',
      '2.weight:3,3',
      '2.bias:3',
    ]);
    expect(featureColumns(coloured)).toEqual([
      { name: 'x', start: 0 },
      { name: 'colour', start: 1, categories: ['blue', 'green', 'red'] },
      { name: 'y', start: 4 },
    ]);
  });

  it('loads a file written before one-hot encoding, whose preprocessing has no oneHot', () => {
    const old =
      '{"task":"classification","features":["petal_length","petal_width"],"mean":[3.7,1.2],"std":[1.7,0.76],' +
      '"impute":"median","fill":[4.35,1.3],"labels":["species"],"classes":["setosa","versicolor","virginica"]}';
    const p = decodeModel(withPreprocessing(old)).preprocessing!;
    expect(p).toEqual(iris);
    expect('oneHot' in p).toBe(false);
    expect(featureColumns(p)).toEqual([
      { name: 'petal_length', start: 0 },
      { name: 'petal_width', start: 1 },
    ]);
  });

  it('refuses one-hot columns that do not fit the features', () => {
    const good = JSON.parse(JSON.stringify(coloured));
    const entry = good.oneHot[0];
    const cases: [object, typeof TypeError | typeof RangeError, RegExp][] = [
      [{ ...good, oneHot: {} }, TypeError, /oneHot must be a list of 1 to 5 \{ column, start, categories \}/],
      [{ ...good, oneHot: [] }, TypeError, /oneHot must be a list/],
      [{ ...good, oneHot: [7] }, TypeError, /oneHot\[0\] must be an object/],
      [
        { ...good, oneHot: [{ ...entry, extra: 1 }] },
        TypeError,
        /must have the keys column, start and categories only/,
      ],
      [
        { ...good, oneHot: [{ ...entry, start: 1.5 }] },
        RangeError,
        /oneHot\[0\]\.start must be an integer from 0 to 4, got 1\.5/,
      ],
      [{ ...good, oneHot: [{ ...entry, start: 3 }] }, RangeError, /categories must be a list of 1 to 2 names/],
      [{ ...good, oneHot: [{ ...entry, categories: [] }] }, RangeError, /categories must be a list of 1 to 4 names/],
      [
        { ...good, oneHot: [{ ...entry, categories: ['blue', 7, 'red'] }] },
        TypeError,
        /categories\[1\] must be a string/,
      ],
      [
        { ...good, oneHot: [{ ...entry, categories: ['blue', 'red', 'green'] }] },
        RangeError,
        /makes input 2 the indicator "colour=red", but the features name it "colour=green"/,
      ],
      [
        { ...good, oneHot: [entry, { ...entry, start: 2, categories: ['green'] }] },
        RangeError,
        /oneHot\[1\]\.start must be an integer from 4 to 4, got 2/,
      ],
      [
        { ...good, features: ['colour', 'colour=blue', 'colour=green', 'colour=red', 'y'] },
        RangeError,
        /the column "colour" is read twice/,
      ],
    ];
    for (const [value, kind, message] of cases) refuses(JSON.stringify(value), kind, message, coloured);
  });

  it('refuses unknown keys, prototype tricks and wrong kinds', () => {
    const good = JSON.parse(JSON.stringify(iris));
    const cases: [object | string, typeof TypeError | typeof RangeError, RegExp][] = [
      ['[1]', TypeError, /metadata\.preprocessing must be an object/],
      ['{"task":', TypeError, /metadata\.preprocessing is not valid JSON/],
      [JSON.stringify(good).replace('{', '{"__proto__":{"polluted":1},'), TypeError, /unknown key "__proto__"/],
      [{ ...good, constructor: {} }, TypeError, /unknown key "constructor"/],
      [{ ...good, task: 'clustering' }, TypeError, /task must be one of classification, regression/],
      [{ ...good, features: ['a'] }, RangeError, /features must have 2 entries \(from the model's sizes\), got 1/],
      [{ ...good, features: ['a', 7] }, TypeError, /features\[1\] must be a string, got 7/],
      [{ ...good, std: [1, 0] }, RangeError, /std\[1\] must be a finite number > 0, got 0/],
      [{ ...good, mean: [1, '2'] }, TypeError, /mean\[1\] must be a number, got "2"/],
      [{ ...good, impute: 'mode' }, TypeError, /impute must be one of mean, median/],
      [{ ...good, classes: ['a', 'b'] }, RangeError, /classes must have 3 entries/],
      [{ ...good, classes: ['a', 'a', 'b'] }, RangeError, /classes must be distinct/],
      [{ ...good, targetMean: [1, 2, 3] }, TypeError, /targetMean belongs to regression/],
      [{ ...good, task: 'regression', classes: undefined }, TypeError, /regression needs the mse loss/],
    ];
    for (const [value, kind, message] of cases) {
      refuses(typeof value === 'string' ? value : JSON.stringify(value), kind, message);
    }
  });

  it('checks a value set through the API against the model and copies it', () => {
    const copy = checkPreprocessing(iris, spec, 'preprocessing');
    expect(copy).toEqual(iris);
    expect(copy.classes).not.toBe(iris.classes);
    const regression = { ...spec, sizes: [2, 3, 2], loss: 'mse' as const };
    expect(() =>
      checkPreprocessing({ ...iris, task: 'regression', classes: undefined }, regression, 'preprocessing'),
    ).toThrow(/preprocessing\.labels must have 2 entries/);
    expect(() => checkPreprocessing(null, spec, 'preprocessing')).toThrow(TypeError);
  });
});
