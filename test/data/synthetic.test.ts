import { describe, expect, it } from 'vitest';
import { circles, moons, twoSpirals, xor, xorTable } from '../../src/data/index.js';
import { classCounts } from './helpers.js';

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
