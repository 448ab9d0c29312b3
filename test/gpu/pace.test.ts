// src/gpu/pace.ts: when a read of GPU work maps (Node on a CPU adapter), on a fake clock.
import { describe, expect, it } from 'vitest';
import { runsOnCpu } from '../../src/gpu/autotune.js';
import { mapWhenDone, PROBE, Pace } from '../../src/gpu/pace.js';
import { twoSpirals } from '../../src/data/synthetic.js';
import { useEngine } from '../gpu.js';

const engine = await useEngine();

/** A Pace on a clock that only moves when told to (or when the Pace sleeps). */
function fake() {
  const clock = { t: 1000 };
  const sleeps: number[] = [];
  const pace = new Pace(
    () => clock.t,
    async (ms) => {
      sleeps.push(ms);
      clock.t += ms;
    },
  );
  /** Submits `units`, lets `ms` pass, and reports the map as taking `mapMs` of that. */
  const run = (units: number, ms: number, mapMs = 5, kind = '') => {
    const ticket = pace.submit(units, kind);
    clock.t += ms;
    pace.done(ticket, mapMs);
  };
  return { clock, sleeps, pace, run };
}

describe('Pace', () => {
  it('maps at once until it has seen a read finish', () => {
    const { pace } = fake();
    expect(pace.remaining(pace.submit(100))).toBe(0);
  });

  it('learns the least time per unit, leaving out the first read (it compiles) and reads too short to tell', () => {
    const { pace, run } = fake();
    run(100, 5000); // pipelines compiled on the way: not counted
    expect(pace.msPerUnit()).toBe(0);
    run(100, 3); // under Pace.MIN_MS: the cost of a submit, not of the work
    expect(pace.msPerUnit()).toBe(0);
    run(100, 210);
    expect(pace.msPerUnit()).toBe(0); // one read alone may be an outlier
    run(100, 400); // other work in the queue made this one longer
    expect(pace.msPerUnit()).toBeCloseTo(2.1, 9);
    run(100, 190);
    expect(pace.msPerUnit()).toBeCloseTo(1.9, 9);
  });

  it('sleeps through the work queued ahead and most of its own', () => {
    const { clock, pace, run } = fake();
    run(10, 20);
    run(10, 20);
    run(10, 20); // 2 ms per unit
    const first = pace.submit(10);
    const second = pace.submit(10);
    const checkpoint = pace.submit(0);
    expect(pace.remaining(first)).toBeCloseTo(0.8 * 20, 9);
    expect(pace.remaining(second)).toBeCloseTo(20 + 0.8 * 20, 9);
    expect(pace.remaining(checkpoint)).toBeCloseTo(40, 9);
    // The first finishes late, at 30 ms: what is behind it now counts from then.
    clock.t += 30;
    pace.done(first, 3);
    expect(pace.remaining(second)).toBeCloseTo(0.8 * 20, 9);
    expect(pace.remaining(checkpoint)).toBeCloseTo(20, 9);
  });

  it('wait() sleeps until the estimate, then returns', async () => {
    const { sleeps, pace, run } = fake();
    for (let i = 0; i < 3; i++) run(4, 40);
    const ticket = pace.submit(4);
    await pace.wait(ticket);
    expect(sleeps).toEqual([32]);
    expect(pace.remaining(ticket)).toBeLessThan(1);
  });

  it('a map that found the work done counts shorter, so a high estimate comes down', () => {
    const { pace, run } = fake();
    for (let i = 0; i < 3; i++) run(10, 100); // 10 ms per unit, while the truth is 5
    for (let i = 0; i < 12; i++) {
      const slept = pace.msPerUnit() * 0.8 * 10;
      // Done at 50 ms: a read that slept past that maps at once, and sees only its sleep.
      if (slept >= 50) run(10, slept, 0);
      else run(10, 50, 50 - slept);
    }
    expect(pace.msPerUnit()).toBeGreaterThanOrEqual(5);
    expect(pace.msPerUnit()).toBeLessThan(5 / 0.8 + 1e-9);
  });

  it('one read held up by other work does not set the sleeps: the next reads map at once and the estimate is theirs', () => {
    const { pace, run } = fake();
    run(10, 5000); // compiles: not counted
    run(10, 300); // held up 280 ms (another fit's pipelines compiling on the same thread)
    const next = pace.submit(10);
    expect(pace.remaining(next)).toBe(0);
    pace.done(next, 5); // the clock has not moved: done as soon as asked, too short to tell
    run(10, 20);
    expect(pace.msPerUnit()).toBeCloseTo(2, 9);
    expect(pace.remaining(pace.submit(10))).toBeCloseTo(0.8 * 20, 9);
  });

  it('keeps an estimate per kind of work: a rate learned on small steps never sets the sleep of large ones', () => {
    const { clock, pace, run } = fake();
    // A small network: 10 ms a step, nearly all of it fixed cost, for 1,000 units.
    for (let i = 0; i < 3; i++) run(1000, 10, 5, 'small');
    expect(pace.msPerUnit('small')).toBeCloseTo(0.01, 9);
    // A network 1,000 times larger takes 300 ms a step, not the 10 s the small one's rate gives.
    const large = pace.submit(1e6, 'large');
    expect(pace.msPerUnit('large')).toBe(0);
    expect(pace.remaining(large)).toBe(0);
    clock.t += 300;
    pace.done(large, 5);
    run(1e6, 300, 5, 'large');
    run(1e6, 300, 5, 'large');
    expect(pace.msPerUnit('large')).toBeCloseTo(3e-4, 12);
    // Queued together, each counts at its own rate: 10 ms of small, then 0.8 of 300 ms.
    const small = pace.submit(1000, 'small');
    const next = pace.submit(1e6, 'large');
    expect(pace.remaining(small)).toBeCloseTo(8, 9);
    expect(pace.remaining(next)).toBeCloseTo(10 + 240, 9);
  });

  it('a failed read leaves the queue and teaches nothing', () => {
    const { clock, pace, run } = fake();
    for (let i = 0; i < 3; i++) run(10, 20);
    const failed = pace.submit(10);
    const next = pace.submit(10);
    clock.t += 1;
    pace.done(failed, 0, false);
    expect(pace.msPerUnit()).toBe(2);
    expect(pace.remaining(next)).toBeCloseTo(0.8 * 20 - 1, 9);
  });
});

/**
 * A buffer whose GPU work is done at `doneAt` on a fake clock that moves only when mapWhenDone sleeps: a map asked
 * for after that resolves, one asked for before stays pending until unmap() aborts it.
 */
function fakeBuffer(doneAt: number, failAt = Number.POSITIVE_INFINITY) {
  const clock = { t: 0 };
  const calls = { maps: 0, unmaps: 0, sleeps: [] as number[] };
  let abort: ((e: Error) => void) | null = null;
  const buffer = {
    mapAsync: () => {
      calls.maps++;
      if (clock.t >= failAt) return Promise.reject(new Error('device lost'));
      if (clock.t >= doneAt) return Promise.resolve();
      return new Promise<void>((_, reject) => {
        abort = reject;
      });
    },
    unmap: () => {
      calls.unmaps++;
      abort?.(new DOMException('unmapped before the map finished', 'AbortError'));
      abort = null;
    },
  } as unknown as GPUBuffer;
  const sleep = async (ms: number) => {
    calls.sleeps.push(ms);
    clock.t += ms;
  };
  return { buffer, calls, sleep };
}

describe('mapWhenDone', () => {
  it('maps once when the work is already done', async () => {
    const { buffer, calls, sleep } = fakeBuffer(0);
    expect(await mapWhenDone(buffer, 16, 100, sleep)).toBe(1);
    expect(calls).toMatchObject({ maps: 1, unmaps: 0 });
  });

  it('withdraws each probe that finds the work running and tries again a twentieth of the expected time later', async () => {
    const { buffer, calls, sleep } = fakeBuffer(40);
    const probes = await mapWhenDone(buffer, 16, 200, sleep);
    // Probes at 0, 11, 22 and 33 ms (each a 1 ms window, then a 10 ms gap) find the work running; the one at 44
    // finds it done at 40.
    expect(probes).toBe(5);
    expect(calls.maps).toBe(5);
    expect(calls.unmaps).toBe(4);
    expect(calls.sleeps).toEqual([1, 10, 1, 10, 1, 10, 1, 10, 1]);
  });

  it('keeps the gap between probes within bounds', async () => {
    const short = fakeBuffer(5);
    await mapWhenDone(short.buffer, 16, 0, short.sleep);
    expect(short.calls.sleeps[1]).toBe(PROBE.minGapMs);
    const long = fakeBuffer(50);
    await mapWhenDone(long.buffer, 16, 1e6, long.sleep);
    expect(long.calls.sleeps[1]).toBe(PROBE.maxGapMs);
  });

  it('probes less often the longer a wait of unknown length lasts, a tenth of the time waited', async () => {
    const { buffer, calls, sleep } = fakeBuffer(300);
    const probes = await mapWhenDone(buffer, 16, 0, sleep);
    const gaps = calls.sleeps.filter((_, i) => i % 2 === 1);
    expect(gaps[0]).toBe(PROBE.minGapMs);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1]);
    expect(gaps.at(-1)).toBe(PROBE.maxGapMs);
    // Fixed 2 ms gaps would take 100 probes; the map still comes within a tenth of the wait of the work's end.
    expect(probes).toBeLessThan(40);
    const at = calls.sleeps.slice(0, -1).reduce((t, ms) => t + ms, 0);
    expect(at).toBeGreaterThanOrEqual(300);
    expect(at).toBeLessThanOrEqual(300 * 1.1 + PROBE.windowMs);
  });

  it('rejects as the map does when the device fails between probes', async () => {
    const { buffer, sleep } = fakeBuffer(1000, 20);
    await expect(mapWhenDone(buffer, 16, 200, sleep)).rejects.toThrow('device lost');
  });
});

describe('paced reads in fit()', () => {
  it("are on in Node on a CPU adapter, learn the queue's pace, and leave the results as they were", async () => {
    expect(engine.pacedReads).toBe(runsOnCpu(engine.adapter));
    const data = twoSpirals(200, { seed: 1 });
    const options = { epochs: 4, batchSize: 10, optimizer: { type: 'sgd', learningRate: 0.1 } } as const;
    const make = () =>
      engine.mlp({ sizes: [2, 16, 2], activations: ['tanh', 'identity'], loss: 'cross_entropy', seed: 2 });
    const paced = make();
    const kind = `fit ${paced.network.flopsPerSample} x ${options.batchSize}`;
    expect(engine.pace.msPerUnit(kind)).toBe(0);
    const history = await paced.fit(data, options);
    if (engine.pacedReads) expect(engine.pace.msPerUnit(kind)).toBeGreaterThan(0);
    engine.pacedReads = false;
    try {
      const polled = make();
      const reference = await polled.fit(data, options);
      expect(history.epochs.map((e) => e.loss)).toEqual(reference.epochs.map((e) => e.loss));
      expect(await paced.getParameters()).toEqual(await polled.getParameters());
    } finally {
      engine.pacedReads = runsOnCpu(engine.adapter);
    }
  });
});

describe('probed reads', () => {
  it('finish() and unpaced reads wait without onSubmittedWorkDone or a long pending map', async () => {
    const model = engine.mlp({ sizes: [3, 8, 2], activations: ['tanh', 'identity'], loss: 'mse', seed: 3 });
    const x = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i));
    const y = Float32Array.from({ length: 8 }, (_, i) => Math.cos(i));
    const queue = engine.device.queue;
    const original = queue.onSubmittedWorkDone;
    let waits = 0;
    queue.onSubmittedWorkDone = function (this: GPUQueue) {
      waits++;
      return original.call(this);
    };
    const was = engine.pacedReads;
    engine.pacedReads = true;
    try {
      const before = await model.getParameters();
      for (let i = 0; i < 5; i++) model.sgdStep(x, y, 0.1);
      await engine.finish();
      expect(Number.isFinite(await model.lastLoss())).toBe(true);
      expect(await model.getParameters()).not.toEqual(before);
      expect(waits).toBe(0);
    } finally {
      engine.pacedReads = was;
      queue.onSubmittedWorkDone = original;
    }
    model.dispose();
  });

  it('finish() resolves only once the work submitted before it is done', async () => {
    const rows = 256;
    const model = engine.mlp({
      sizes: [256, 512, 512, 10],
      activations: ['relu', 'relu', 'identity'],
      loss: 'cross_entropy',
      seed: 4,
      batchSize: rows,
    });
    const x = Float32Array.from({ length: rows * 256 }, (_, i) => Math.sin(i));
    const y = Uint32Array.from({ length: rows }, (_, i) => i % 10);
    const was = engine.pacedReads;
    engine.pacedReads = true;
    try {
      model.sgdStep(x, y, 0.01);
      await engine.finish(); // compiled and warm
      const t0 = performance.now();
      for (let i = 0; i < 4; i++) model.sgdStep(x, y, 0.01);
      await engine.finish();
      const work = performance.now() - t0;
      // Had finish() returned early, the queue would still hold most of the steps.
      const t1 = performance.now();
      await engine.device.queue.onSubmittedWorkDone();
      const left = performance.now() - t1;
      expect(left).toBeLessThan(Math.max(20, 0.2 * work));
    } finally {
      engine.pacedReads = was;
    }
    model.dispose();
  });
});
