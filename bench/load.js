// Other load on the machine while a benchmark case runs: CPU time that neither the bench nor its browser used,
// and steal (time a virtual machine's cores waited for the host). On a CPU adapter webgrad spreads every
// dispatch over all cores and waits for the slowest, so one core busy elsewhere slows it far more than a
// single-threaded peer (README, Performance): a ratio measured under other load says little. Linux only (/proc);
// elsewhere the snapshots are null and nothing is reported.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * @typedef {{ busy: number, steal: number, total: number, cpus: number }} MachineTicks
 *   Summed over all cores, in clock ticks: busy (user, nice, system, irq, softirq), steal, and all of it.
 * @typedef {{ machine: MachineTicks, own: number }} CpuSnapshot
 * @typedef {{ cores: number, steal: number }} OtherLoad
 *   cores: cores kept busy by other processes on average; steal: the fraction of all core time stolen.
 */

/** Above this many cores of other load a case's figures are flagged as disturbed. */
export const DISTURBED_CORES = 0.2;

/**
 * Cases shorter than this, in clock ticks per core (half a second at Linux's 100 ticks a second), get no figure:
 * every process's time is counted in whole ticks, so a few ticks' rounding would read as a large load or steal.
 */
export const MIN_ELAPSED_TICKS = 50;

/**
 * The machine's line of /proc/stat ("cpu  user nice system idle iowait irq softirq steal ...") and its core count.
 * @param {string} text the whole of /proc/stat
 * @returns {MachineTicks}
 */
export function parseProcStat(text) {
  const lines = text.split('\n');
  const all = lines.find((l) => /^cpu\s/.test(l));
  if (!all) throw new Error(`/proc/stat: expected a line starting "cpu ", got ${JSON.stringify(text.slice(0, 40))}`);
  const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = all.trim().split(/\s+/).slice(1).map(Number);
  return {
    busy: user + nice + system + irq + softirq,
    steal,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
    cpus: Math.max(1, lines.filter((l) => /^cpu\d+\s/.test(l)).length),
  };
}

/**
 * pid, parent pid and CPU ticks (user + system) from a /proc/<pid>/stat line. The command name, field 2, is in
 * parentheses and may itself hold spaces and parentheses, so the fields are counted from its last ')'.
 * @param {string} line
 * @returns {{ pid: number, ppid: number, ticks: number }}
 */
export function parsePidStat(line) {
  const close = line.lastIndexOf(')');
  if (close < 0) throw new Error(`/proc/<pid>/stat: expected "pid (name) state ...", got ${JSON.stringify(line)}`);
  const rest = line.slice(close + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime 14 and stime 15.
  return {
    pid: Number(line.slice(0, line.indexOf(' '))),
    ppid: Number(rest[1]),
    ticks: Number(rest[11]) + Number(rest[12]),
  };
}

/**
 * CPU ticks of the processes in `roots` and all their descendants.
 * @param {{ pid: number, ppid: number, ticks: number }[]} procs
 * @param {number[]} roots
 */
export function treeTicks(procs, roots) {
  const children = new Map();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  let ticks = 0;
  const seen = new Set();
  const stack = roots.map((pid) => byPid.get(pid)).filter((p) => p !== undefined);
  while (stack.length > 0) {
    const p = stack.pop();
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    ticks += p.ticks;
    stack.push(...(children.get(p.pid) ?? []));
  }
  return ticks;
}

/**
 * The machine's CPU time, and that of `roots` (the bench's own processes) with their descendants; null where
 * /proc cannot be read.
 * @param {number[]} roots
 * @returns {CpuSnapshot | null}
 */
export function cpuSnapshot(roots) {
  try {
    const procs = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        procs.push(parsePidStat(readFileSync(`/proc/${name}/stat`, 'utf8')));
      } catch {
        // The process ended between readdir and read.
      }
    }
    return { machine: parseProcStat(readFileSync('/proc/stat', 'utf8')), own: treeTicks(procs, roots) };
  } catch {
    return null;
  }
}

/**
 * Other load between two snapshots: cores busy with other processes on average (never below 0: a process of
 * ours that ended in between takes its ticks with it), and the fraction of core time stolen; null without both
 * snapshots or when less than MIN_ELAPSED_TICKS passed.
 * @param {CpuSnapshot | null} before
 * @param {CpuSnapshot | null} after
 * @returns {OtherLoad | null}
 */
export function otherLoad(before, after) {
  if (!before || !after) return null;
  const total = after.machine.total - before.machine.total;
  const elapsed = total / after.machine.cpus;
  if (!(elapsed >= MIN_ELAPSED_TICKS)) return null;
  const other = after.machine.busy - before.machine.busy - (after.own - before.own);
  return {
    cores: Number(Math.max(0, other / elapsed).toFixed(2)),
    steal: Number(((after.machine.steal - before.machine.steal) / total).toFixed(3)),
  };
}

/**
 * "other load 0.31 cores, steal 2%", for a progress line.
 * @param {OtherLoad | null | undefined} load
 */
export function describeLoad(load) {
  if (!load) return '';
  return `other load ${load.cores.toFixed(2)} cores, steal ${Math.round(100 * load.steal)}%`;
}

/**
 * The other load of each case of a run, for the two runners (bench/run.js, bench/node.ts): start() before a case,
 * end() after it, which sets its rows' otherLoad; warning() at the end of the run.
 */
export class LoadLog {
  /** @param {number[]} roots the bench's own processes (with their descendants) */
  constructor(roots) {
    this.roots = roots;
    /** @type {CpuSnapshot | null} */
    this.before = null;
    /** @type {{ label: string, load: OtherLoad | null }[]} */
    this.cases = [];
  }

  start() {
    this.before = cpuSnapshot(this.roots);
  }

  /**
   * The other load since start(), also set on `rows`, and kept under `label` for warning().
   * @param {string} label
   * @param {{ otherLoad?: OtherLoad | null }[]} rows
   * @returns {OtherLoad | null}
   */
  end(label, rows) {
    const load = otherLoad(this.before, cpuSnapshot(this.roots));
    if (load) for (const r of rows) r.otherLoad = load;
    this.cases.push({ label, load });
    return load;
  }

  /** disturbedWarning() of the cases so far. */
  warning() {
    return disturbedWarning(this.cases);
  }
}

/**
 * A warning for the report when some cases ran with more than DISTURBED_CORES of other load, or null.
 * @param {{ label: string, load: OtherLoad | null }[]} cases
 */
export function disturbedWarning(cases) {
  const hit = cases.filter((c) => c.load && c.load.cores > DISTURBED_CORES);
  if (hit.length === 0) return null;
  const list = hit.map((c) => `${c.label} (${c.load?.cores.toFixed(2)} cores)`).join(', ');
  return (
    `Warning: other processes kept more than ${DISTURBED_CORES} of a core busy during ${list}. On a CPU adapter ` +
    'that slows webgrad far more than a single-threaded peer: its ratios from those cases understate it.'
  );
}
