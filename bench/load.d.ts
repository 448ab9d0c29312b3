// Types of bench/load.js, for the TypeScript runner (bench/node.ts) and its tests.

/** Summed over all cores, in clock ticks: busy (user, nice, system, irq, softirq), steal, and all of it. */
export interface MachineTicks {
  busy: number;
  steal: number;
  total: number;
  cpus: number;
}
export interface CpuSnapshot {
  machine: MachineTicks;
  /** CPU ticks of the bench's own processes and their descendants. */
  own: number;
}
/** cores: cores kept busy by other processes on average; steal: the fraction of all core time stolen. */
export interface OtherLoad {
  cores: number;
  steal: number;
}
export const DISTURBED_CORES: number;
export const MIN_ELAPSED_TICKS: number;
export function parseProcStat(text: string): MachineTicks;
export function parsePidStat(line: string): { pid: number; ppid: number; ticks: number };
export function treeTicks(procs: { pid: number; ppid: number; ticks: number }[], roots: number[]): number;
export function cpuSnapshot(roots: number[]): CpuSnapshot | null;
export function otherLoad(before: CpuSnapshot | null, after: CpuSnapshot | null): OtherLoad | null;
export function describeLoad(load: OtherLoad | null | undefined): string;
export function disturbedWarning(cases: { label: string; load: OtherLoad | null }[]): string | null;
export class LoadLog {
  constructor(roots: number[]);
  readonly cases: { label: string; load: OtherLoad | null }[];
  start(): void;
  end(label: string, rows: { otherLoad?: OtherLoad | null }[]): OtherLoad | null;
  warning(): string | null;
}
