// bench/page/common.ts: the schedule that times training cases against each other.
import { describe, expect, it } from 'vitest';
import { interleave, type Repeatable, sizeOp } from '../../bench/page/common.js';

const options = { smoke: false, reps: 3, warmup: 1, targetMs: 50, maxIters: 100 };

/** A case that logs its calls into `log`; rep() returns `ms`, or throws on the repetition `failAt`. */
function fake(name: string, log: string[], ms = 1, failAt = -1, failPrepare = false): Repeatable & { name: string } {
  let reps = 0;
  return {
    name,
    async prepare() {
      log.push(`prepare ${name}`);
      if (failPrepare) throw new Error(`${name} cannot start`);
    },
    async rep() {
      log.push(`rep ${name}`);
      if (reps++ === failAt) throw new Error(`${name} failed`);
      return ms;
    },
  };
}

describe('interleave', () => {
  it('prepares every case first, then times one repetition of each per round, the order rotated each round', async () => {
    const log: string[] = [];
    const cases = [fake('a', log, 1), fake('b', log, 2), fake('c', log, 3)];
    const out = await interleave(cases, 3);
    expect(log).toEqual([
      'prepare a',
      'prepare b',
      'prepare c',
      ...['rep a', 'rep b', 'rep c'],
      ...['rep b', 'rep c', 'rep a'],
      ...['rep c', 'rep a', 'rep b'],
    ]);
    expect(cases.map((c) => out.get(c))).toEqual([
      [1, 1, 1],
      [2, 2, 2],
      [3, 3, 3],
    ]);
  });

  it('drops a case that throws, keeps its error, and goes on with the others', async () => {
    const log: string[] = [];
    const cases = [fake('a', log), fake('b', log, 1, 1), fake('c', log, 1, -1, true)];
    const out = await interleave(cases, 3);
    expect((out.get(cases[1]) as Error).message).toBe('b failed');
    expect((out.get(cases[2]) as Error).message).toBe('c cannot start');
    expect(out.get(cases[0])).toEqual([1, 1, 1]);
    // c never repeats; b's second repetition is its last
    expect(log.filter((l) => l === 'rep c')).toEqual([]);
    expect(log.filter((l) => l === 'rep b')).toHaveLength(2);
  });
});

describe('sizeOp', () => {
  it('sizes repetitions to the target from the last warm-up call, within [1, maxIters]', async () => {
    expect(await sizeOp(async () => 5, options)).toBe(10);
    expect(await sizeOp(async () => 0.01, options)).toBe(100);
    expect(await sizeOp(async () => 500, options)).toBe(1);
    expect(await sizeOp(async () => 5, { ...options, targetMs: 0 })).toBe(1);
  });

  it('times one more call where the only warm-up outlasted the target (it compiled)', async () => {
    const calls: number[] = [];
    const durations = [400, 10];
    const iters = await sizeOp(async (n) => {
      calls.push(n);
      return durations[calls.length - 1];
    }, options);
    expect(calls).toEqual([1, 1]);
    expect(iters).toBe(5);
  });
});
