// Preprocessing in model files: written as JSON in metadata.preprocessing, read back as untrusted input.
import { describe, expect, it } from 'vitest';
import type { LayerParameters } from '../../src/core/types.js';
import { decodeModel, encodeModel, type ModelSpec } from '../../src/io/model-file.js';
import { checkPreprocessing, type Preprocessing } from '../../src/io/preprocessing.js';
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

function withPreprocessing(json: string): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(encodeModel(spec, params, null, iris));
  return encodeSafetensors(tensors, { ...metadata, preprocessing: json });
}

function refuses(json: string, kind: typeof TypeError | typeof RangeError, message: RegExp): void {
  let caught: unknown;
  try {
    decodeModel(withPreprocessing(json));
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
