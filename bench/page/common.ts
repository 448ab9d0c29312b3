// Types, options and timing helpers shared by the benchmark parts.

/**
 * The three matmul forms of MLP training, C (m×n) from A and B as stored:
 * - 'ABt': C = A·Bᵀ, A is m×k, B is n×k (forward pass with weights stored out×in)
 * - 'AB':  C = A·B,  A is m×k, B is k×n (gradient with respect to the input)
 * - 'AtB': C = Aᵀ·B, A is k×m, B is k×n (gradient with respect to the weights)
 */
export type MatmulForm = 'ABt' | 'AB' | 'AtB';
export const MATMUL_FORMS: readonly MatmulForm[] = ['ABt', 'AB', 'AtB'];

/** How a duration was measured: GPU timestamp queries around one compute pass, or wall clock until the queue drained. */
export type TimingMethod = 'gpu-timestamp' | 'wall';

/** One row of bench/results/latest.json. Rates are null when the library has no implementation yet. */
export interface Result {
  name: string;
  library: string;
  size?: number;
  batch?: number;
  form?: MatmulForm;
  gflops?: number | null;
  gbps?: number | null;
  samplesPerSec?: number | null;
  /** Median milliseconds of one operation (one kernel, one matmul, one training step). */
  msMedian: number | null;
  /** Every timed repetition, ms per operation. */
  msSamples?: number[];
  /** Operations per timed repetition (chosen so that one repetition lasts about targetMs). */
  iters?: number;
  timing?: TimingMethod;
  note?: string;
  /** Matmul rows: the FMA peak timed in the same rounds as the matmul (its share of the peak is gflops / this). */
  peakGflops?: number | null;
  /** webgrad only: CPU milliseconds to record and submit one training step (4-layer MLP). */
  recordMs?: number;
  /** Set by the runner (bench/run.js, bench/node.ts) when the case threw. */
  error?: string;
  /**
   * Set by the runner on Linux (bench/load.js): cores kept busy by other processes while the case ran, on
   * average, and the fraction of core time stolen from a virtual machine.
   */
  otherLoad?: { cores: number; steal: number } | null;
}

export interface BenchOptions {
  /** Tiny sizes, one repetition: a quick check that everything runs. */
  smoke: boolean;
  /** Timed repetitions per case; the median is reported. */
  reps: number;
  /** Untimed runs before timing (pipeline compilation, uploads, allocator warm-up). */
  warmup: number;
  /** A timed repetition repeats the operation until it lasts about this long (0: once). */
  targetMs: number;
  /** Largest number of operations per timed repetition. */
  maxIters: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Sizes an operation for timing. `once(iters)` performs it `iters` times back to back, waits for completion and
 * returns the elapsed milliseconds. After opts.warmup untimed calls, the number of iterations per repetition is
 * chosen from the last warm-up so that a repetition lasts about opts.targetMs.
 */
export async function sizeOp(once: (iters: number) => Promise<number>, opts: BenchOptions): Promise<number> {
  let last = Number.NaN;
  for (let i = 0; i < Math.max(1, opts.warmup); i++) last = await once(1);
  // A single warm-up call also compiles: where it outlasted the target, one more call sizes the repetitions,
  // or they would be single operations, each waited for, that a steady run pipelines. Not where one call is
  // that long anyway (TensorFlow.js WebGPU at batch 8192 takes half a minute a step on a CPU).
  const long = Math.max(10 * opts.targetMs, 10_000);
  if (opts.warmup <= 1 && opts.targetMs > 0 && last > opts.targetMs && last < long) last = await once(1);
  if (!(opts.targetMs > 0 && last > 0)) return 1;
  return Math.min(opts.maxIters, Math.max(1, Math.round(opts.targetMs / last)));
}

/**
 * Times an operation (see sizeOp): milliseconds per single operation for each of opts.reps repetitions, run back
 * to back. Cases compared with each other go through `interleave` instead.
 */
export async function timeOp(
  once: (iters: number) => Promise<number>,
  opts: BenchOptions,
): Promise<{ samples: number[]; iters: number; method?: TimingMethod }> {
  const iters = await sizeOp(once, opts);
  const samples: number[] = [];
  for (let r = 0; r < opts.reps; r++) samples.push((await once(iters)) / iters);
  return { samples, iters };
}

/** A case of an interleaved comparison: prepared (warmed up and sized) once, then timed a repetition at a time. */
export interface Repeatable {
  prepare(): Promise<void>;
  /** One timed repetition: milliseconds per operation. */
  rep(): Promise<number>;
}

/**
 * Times cases against each other on a machine whose speed drifts: each case is prepared, then every round times
 * one repetition of each case, in an order rotated by one each round, so that a slow spell of the machine lands on
 * all cases alike rather than on whichever ran in it. A case that throws is dropped from later rounds; its entry
 * is the error, the others' their samples.
 */
export async function interleave<T extends Repeatable>(cases: readonly T[], reps: number) {
  const out = new Map<T, number[] | Error>();
  const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));
  for (const c of cases) {
    try {
      await c.prepare();
      out.set(c, []);
    } catch (e) {
      out.set(c, asError(e));
    }
  }
  for (let r = 0; r < reps; r++) {
    const live = cases.filter((c) => Array.isArray(out.get(c)));
    const order = live.map((_, i) => live[(i + r) % live.length]);
    for (const c of order) {
      try {
        const ms = await c.rep();
        (out.get(c) as number[]).push(ms);
      } catch (e) {
        out.set(c, asError(e));
      }
    }
  }
  return out;
}

/** Rounds for display and JSON: 4 significant digits. */
export function round4(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(4)) : x;
}

/**
 * Times GPU work on one device: with 'timestamp-query', timestamps written at the beginning and end of a
 * single compute pass; otherwise wall clock from submit until device.queue.onSubmittedWorkDone().
 */
export class GpuTimer {
  readonly method: TimingMethod;
  private readonly querySet?: GPUQuerySet;
  private readonly resolveBuf?: GPUBuffer;
  private readonly readBuf?: GPUBuffer;

  constructor(private readonly device: GPUDevice) {
    this.method = device.features.has('timestamp-query') ? 'gpu-timestamp' : 'wall';
    if (this.method === 'gpu-timestamp') {
      this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
      this.resolveBuf = device.createBuffer({
        size: 16,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      this.readBuf = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
  }

  /** Encodes one compute pass with `body`, submits it and returns its duration in ms. */
  async timePass(body: (pass: GPUComputePassEncoder) => void): Promise<number> {
    const enc = this.device.createCommandEncoder();
    const qs = this.querySet;
    const pass = enc.beginComputePass(
      qs ? { timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {},
    );
    body(pass);
    pass.end();
    if (!qs || !this.resolveBuf || !this.readBuf) return this.submitWall(enc);
    enc.resolveQuerySet(qs, 0, 2, this.resolveBuf, 0);
    enc.copyBufferToBuffer(this.resolveBuf, 0, this.readBuf, 0, 16);
    const wall = await this.submitWall(enc);
    await this.readBuf.mapAsync(GPUMapMode.READ);
    const [t0, t1] = new BigUint64Array(this.readBuf.getMappedRange().slice(0));
    this.readBuf.unmap();
    const ms = Number(t1 - t0) / 1e6;
    // Some drivers report zero or reversed timestamps (e.g. across a clock reset): fall back to wall time.
    return ms > 0 ? ms : wall;
  }

  /** Submits an encoder and returns wall milliseconds until the queue has drained. */
  async submitWall(enc: GPUCommandEncoder): Promise<number> {
    const t0 = performance.now();
    this.device.queue.submit([enc.finish()]);
    await this.device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolveBuf?.destroy();
    this.readBuf?.destroy();
  }
}

/**
 * Wall-clock `once` (see sizeOp) of a prepared case: `iters` calls of run() ended by one sync() (default: until
 * the device's queue drained).
 */
export function runsOnce(device: GPUDevice, c: { run(): void | Promise<void>; sync?(): Promise<void> }) {
  return async (iters: number): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) await c.run();
    await (c.sync ? c.sync() : device.queue.onSubmittedWorkDone());
    return performance.now() - t0;
  };
}

/** A webgrad kernel variant the device cannot run: its row has no numbers and is not an error. */
export class NotAvailable extends Error {}

/** The first line of what a case threw, for its row's `error`. */
export function firstLine(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}
