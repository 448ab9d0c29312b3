// bench/load.js: other load on the machine while a benchmark case runs, from Linux's /proc.
import { describe, expect, it } from 'vitest';
import * as load from '../../bench/load.js';

const STAT = [
  'cpu  6548277 8397 628784 3320316 20883 0 6994 119317 0 0',
  'cpu0 3226975 4201 306474 1723636 4537 0 1443 59326 0 0',
  'cpu1 3321302 4195 322309 1596679 16345 0 5550 59990 0 0',
  'intr 1 2 3',
].join('\n');

describe('parsing /proc', () => {
  it('reads busy, steal and total ticks and the core count from /proc/stat', () => {
    expect(load.parseProcStat(STAT)).toEqual({
      busy: 6548277 + 8397 + 628784 + 0 + 6994,
      steal: 119317,
      total: 6548277 + 8397 + 628784 + 3320316 + 20883 + 0 + 6994 + 119317,
      cpus: 2,
    });
    expect(() => load.parseProcStat('intr 1 2')).toThrow(/expected a line starting "cpu "/);
  });

  it('reads pid, parent and CPU ticks of a process, whatever its name holds', () => {
    const tail = 'S 41 41 0 0 -1 4194560 100 0 0 0 250 70 0 0 20 0 9 0 5333021 3133440 382';
    expect(load.parsePidStat(`4242 (chrome) ${tail}`)).toEqual({ pid: 4242, ppid: 41, ticks: 320 });
    expect(load.parsePidStat(`4243 (a (b) c) ${tail}`)).toEqual({ pid: 4243, ppid: 41, ticks: 320 });
    expect(() => load.parsePidStat('garbage')).toThrow(/expected "pid \(name\) state/);
  });

  it('sums a process with all its descendants, and nothing else', () => {
    const procs = [
      { pid: 1, ppid: 0, ticks: 1000 },
      { pid: 10, ppid: 1, ticks: 5 },
      { pid: 11, ppid: 10, ticks: 7 },
      { pid: 12, ppid: 11, ticks: 11 },
      { pid: 13, ppid: 1, ticks: 100 },
      { pid: 20, ppid: 1, ticks: 3 },
    ];
    expect(load.treeTicks(procs, [10])).toBe(23);
    expect(load.treeTicks(procs, [10, 20])).toBe(26);
    expect(load.treeTicks(procs, [11, 10])).toBe(23); // a root inside another's tree counts once
    expect(load.treeTicks(procs, [99])).toBe(0);
  });
});

describe('other load between two snapshots', () => {
  const machine = (busy: number, steal: number, total: number): load.MachineTicks => ({ busy, steal, total, cpus: 2 });

  it('is the busy time of the machine less ours, over the elapsed time per core', () => {
    // 1000 ticks a core elapsed (2000 in all); 1500 busy, 1200 of them ours: 0.3 cores of other load.
    const before = { machine: machine(10_000, 100, 50_000), own: 4000 };
    const after = { machine: machine(11_500, 140, 52_000), own: 5200 };
    expect(load.otherLoad(before, after)).toEqual({ cores: 0.3, steal: 0.02 });
    expect(load.describeLoad(load.otherLoad(before, after))).toBe('other load 0.30 cores, steal 2%');
  });

  it('is never below zero, and null without snapshots or with too little time elapsed', () => {
    // One of our processes ended in between and took its ticks along: more of ours than the machine's.
    const before = { machine: machine(10_000, 0, 50_000), own: 4000 };
    expect(load.otherLoad(before, { machine: machine(10_500, 0, 52_000), own: 4900 })?.cores).toBe(0);
    expect(load.otherLoad(null, before)).toBeNull();
    expect(load.otherLoad(before, before)).toBeNull();
    // A case of a few ticks: 6 of 10 busy would read as 1.2 cores; too short to tell.
    const short = { machine: machine(10_006, 0, 50_000 + 2 * 10), own: 4000 };
    expect(load.otherLoad(before, short)).toBeNull();
    const justLongEnough = { machine: machine(10_006, 0, 50_000 + 2 * load.MIN_ELAPSED_TICKS), own: 4000 };
    expect(load.otherLoad(before, justLongEnough)?.cores).toBe(0.12);
    expect(load.describeLoad(null)).toBe('');
  });

  it('flags only the cases above the threshold', () => {
    const quiet = { cores: load.DISTURBED_CORES / 2, steal: 0 };
    const busy = { cores: 0.85, steal: 0.01 };
    expect(
      load.disturbedWarning([
        { label: 'train batch 64', load: quiet },
        { label: 'x', load: null },
      ]),
    ).toBeNull();
    const warning = load.disturbedWarning([
      { label: 'train batch 64', load: busy },
      { label: 'train batch 1024', load: quiet },
    ]);
    expect(warning).toMatch(/during train batch 64 \(0\.85 cores\)\./);
    expect(warning).not.toMatch(/1024/);
  });
});

describe.runIf(process.platform === 'linux')('on this machine', () => {
  it("counts this process's own busy time as its own, not as other load", () => {
    const before = load.cpuSnapshot([process.pid]);
    const t0 = performance.now();
    let x = 0;
    while (performance.now() - t0 < 700) x += Math.sqrt(x + 1);
    const after = load.cpuSnapshot([process.pid]);
    expect(x).toBeGreaterThan(0);
    expect(before).not.toBeNull();
    // 700 ms of this thread spinning is about 70 ticks of 10 ms; allow for a busy machine taking some of it.
    expect((after?.own ?? 0) - (before?.own ?? 0)).toBeGreaterThanOrEqual(25);
    const other = load.otherLoad(before, after);
    expect(other?.cores).toBeGreaterThanOrEqual(0);
    expect(other?.cores).toBeLessThanOrEqual((after?.machine.cpus ?? 0) - 0.5);
  });

  it("keeps each case's load, sets it on the case's rows, and warns from the cases kept", () => {
    const log = new load.LoadLog([process.pid]);
    log.start();
    // Long enough for a figure (MIN_ELAPSED_TICKS of 10 ms).
    const t0 = performance.now();
    while (performance.now() - t0 < 700);
    const rows: { otherLoad?: load.OtherLoad | null }[] = [{}, {}];
    const got = log.end('train batch 64', rows);
    expect(got).not.toBeNull();
    expect(got?.cores).toBeGreaterThanOrEqual(0);
    expect(rows.map((r) => r.otherLoad)).toEqual([got, got]);
    expect(log.cases).toEqual([{ label: 'train batch 64', load: got }]);
    expect(log.warning()).toBe(load.disturbedWarning(log.cases));
  });
});
