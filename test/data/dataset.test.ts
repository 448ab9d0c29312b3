import { describe, expect, it } from 'vitest';
import { type Dataset, loadMnist, moons, parseCsv, splitDataset, subset } from '../../src/data/index.js';
import { rows } from './helpers.js';

describe('splitDataset and subset', () => {
  const ds = moons(101, { seed: 2 });

  it('splits into disjoint parts of the right size', () => {
    const { train, test } = splitDataset(ds, 0.2, 7);
    expect([train.n, test.n]).toEqual([81, 20]);
    expect(train.x.length).toBe(162);
    expect(test.y.length).toBe(20);
    const trainRows = rows(train);
    for (const row of rows(test)) expect(trainRows.has(row)).toBe(false);
    expect(new Set([...trainRows, ...rows(test)])).toEqual(rows(ds));
    expect(splitDataset(ds, 0.2, 7)).toEqual({ train, test });
    expect(splitDataset(ds, 0.2, 8).test.x).not.toEqual(test.x);
  });

  it('keeps the extra fields and the x type', () => {
    const csv = parseCsv('a,label\n1,p\n2,q\n3,p\n');
    const { test } = splitDataset(csv, 1 / 3, 1);
    expect(test.labels).toEqual(['p', 'q']);
    const mn = loadMnist({ train: 20, test: 0 }).train;
    const { train } = splitDataset(mn, 0.5);
    expect(train.x).toBeInstanceOf(Uint8Array);
    expect(train.inputScale).toBe(mn.inputScale);
  });

  it('copies rows in the given order, including Float32 targets', () => {
    const reg: Dataset = {
      x: new Float32Array([0, 1, 2, 3, 4, 5]),
      y: new Float32Array([10, 11, 20, 21, 30, 31]),
      n: 3,
      inputs: 2,
    };
    const s = subset(reg, [2, 0, 2]);
    expect(Array.from(s.x)).toEqual([4, 5, 0, 1, 4, 5]);
    expect(Array.from(s.y)).toEqual([30, 31, 10, 11, 30, 31]);
    expect(s.n).toBe(3);
    expect(() => subset(reg, [3])).toThrow(RangeError);
    expect(() => splitDataset(reg, 1.5)).toThrow(RangeError);
  });
});
