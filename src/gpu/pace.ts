/** Resolves after `ms` on a timer: a sleep with nothing pending on the GPU. */
const timerSleep = (ms: number): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * When to ask for a read's results, for a GPU that runs on the CPU under Dawn's Node bindings. While any mapAsync
 * is pending there, dawn.node polls for it on every turn of the event loop (setImmediate, then
 * wgpuInstanceProcessEvents), keeping a core busy; on a machine with few cores that core is taken from the
 * threads that run the shaders (SwiftShader), and the GPU work itself slows down. A Pace learns how long a unit
 * of work (a flop of training) takes, and has each read sleep, with nothing pending, until the work queued up to
 * and including its own should be nearly done; only then does the read map. It sleeps a little short of the
 * estimate, so the map ends when the GPU does and each observation is the GPU's own time, not the sleep's. One
 * Pace follows a device's queue, so fits of different models on one engine share one estimate and one queue, and
 * none falls behind. Past the sleep, mapWhenDone() asks in short probes, so an estimate that came out short costs
 * a few milliseconds of polling, not the rest of the work at a fraction of its speed.
 */
export class Pace {
  /** What has been learned of each kind of work (see submit). */
  private readonly rates = new Map<string, Rate>();
  /** Reads submitted and not yet done, in submission order (the queue runs in that order). */
  private readonly queue: Ticket[] = [];
  /** When the last read's work was seen done. */
  private lastDone = 0;

  /** The fraction of a read's own expected time to sleep through. */
  static readonly SLEEP_FRACTION = 0.8;
  /** The shortest read that teaches the estimate anything. */
  static readonly MIN_MS = 5;
  /** Observations the estimate looks back over. */
  static readonly WINDOW = 8;
  /** Observations a kind needs before its reads sleep: one alone may be an outlier. */
  static readonly MIN_SEEN = 2;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<unknown> = timerSleep,
  ) {}

  /**
   * Milliseconds per unit of a kind of work: the least of its recent observations, 0 before any. The least,
   * because every disturbance makes a read longer (compiling pipelines on first use, other work in the queue, a
   * sleep too long), and an estimate too short costs only some polling while one too long holds results back.
   * The first read of each kind, which compiles its pipelines, is not counted at all, and the estimate stays 0
   * until Pace.MIN_SEEN reads have been: a single read held up by something else (another fit's pipelines
   * compiling on the same thread, say) would otherwise set sleeps hundreds of times too long, worn down only
   * slowly, while a fit beside it ran on.
   */
  msPerUnit(kind = ''): number {
    return this.rates.get(kind)?.msPerUnit ?? 0;
  }

  /**
   * A read of `units` of work (0: none of its own, queued behind others) was submitted now. Reads of one `kind`
   * share an estimate, and should take time in proportion to their units: the same steps of one network at one
   * batch size, say. Across kinds the proportion fails: a step's fixed costs (its dispatches, its submit) weigh
   * far more per unit on a small network, and a rate learned there, applied to a large one, once put a sleep of
   * minutes before a read of seconds.
   */
  submit(units: number, kind = ''): Ticket {
    let rate = this.rates.get(kind);
    if (!rate) this.rates.set(kind, (rate = { msPerUnit: 0, seen: [], warm: false }));
    const ticket = { submitted: this.now(), units, rate };
    this.queue.push(ticket);
    return ticket;
  }

  /**
   * Milliseconds from now until the ticket's work should be nearly done (<= 0: map now). Work ahead of a kind
   * not yet learned counts as nothing, so the estimate errs short.
   */
  remaining(ticket: Ticket): number {
    const at = this.queue.indexOf(ticket);
    if (at < 0 || ticket.rate.msPerUnit === 0) return 0;
    let ms = Pace.SLEEP_FRACTION * ticket.units * ticket.rate.msPerUnit;
    for (let i = 0; i < at; i++) ms += this.queue[i].units * this.queue[i].rate.msPerUnit;
    // The oldest read not yet done started when the one before it was seen done, or when it was submitted.
    const start = Math.max(this.queue[0].submitted, this.lastDone);
    return start + ms - this.now();
  }

  /** Sleeps until remaining() says to map; reads ahead finishing meanwhile refine it. */
  async wait(ticket: Ticket): Promise<void> {
    for (let ms = this.remaining(ticket); ms >= 1; ms = this.remaining(ticket)) await this.sleep(ms);
  }

  /**
   * The ticket's results have arrived, `mapMs` after the map was asked for (or it failed: `ok` false, nothing
   * learned). A map that took under a millisecond found the work already done: the read slept too long, so its
   * time is only a bound, and it counts shortened, which walks an estimate that came out high (the first read
   * compiles pipelines) back down.
   */
  done(ticket: Ticket, mapMs: number, ok = true): void {
    const at = this.queue.indexOf(ticket);
    if (at >= 0) this.queue.splice(at, 1);
    if (!ok) return;
    const now = this.now();
    const took = now - Math.max(ticket.submitted, this.lastDone);
    this.lastDone = now;
    // Short reads measure the fixed cost of a submit more than the work; where every read is short there is
    // little polling to save, and the estimate stays 0 (no sleeping).
    if (!(took >= Pace.MIN_MS && ticket.units > 0)) return;
    let ms = took / ticket.units;
    if (mapMs < 1) ms *= Pace.SLEEP_FRACTION;
    const { rate } = ticket;
    if (!rate.warm) {
      rate.warm = true;
      return;
    }
    rate.seen.push(ms);
    if (rate.seen.length > Pace.WINDOW) rate.seen.shift();
    rate.msPerUnit = rate.seen.length >= Pace.MIN_SEEN ? Math.min(...rate.seen) : 0;
  }
}

/** What a paced read holds, as Pace.submit takes it: `units` of work (flops, say) of one `kind`. */
export interface PacedRead {
  units: number;
  kind?: string;
}

/** What a Pace has learned of one kind of work. */
interface Rate {
  msPerUnit: number;
  /** The latest observations, up to Pace.WINDOW. */
  seen: number[];
  /** Whether the first read, which compiles, has been left out. */
  warm: boolean;
}

/** How long a map probe may stay pending, and the least and most time between probes, in ms. */
export const PROBE = { windowMs: 1, minGapMs: 2, maxGapMs: 20 };

/**
 * Maps `size` bytes of `buffer` (a read of GPU work expected to take about `expectMs`, 0 if unknown) for reading,
 * the pending map never left waiting long: a probe that has not resolved within PROBE.windowMs is withdrawn by
 * unmap() (which aborts it), and the next comes after a gap of a twentieth of `expectMs`, or a tenth of the time
 * waited so far if that is more, within PROBE's bounds. While a map is pending dawn.node polls on every turn of
 * the event loop; measured on SwiftShader (2 cores), the GPU then ran the rest of a batch-64 group of eight steps
 * 2 to 3 times slower, and a group waited for by probes took 305-320 ms against 450-540 ms with one pending map.
 * Gaps that grow with the wait keep a long wait whose length is unknown (`engine.finish()` behind thirty steps)
 * from polling one millisecond in three: a median of 26.6 ms a batch-64 step against 31.5 ms with 2 ms gaps
 * throughout (thirty steps ended by finish(), six interleaved rounds).
 * Resolves with the probes it took (1: the work was already done); rejects as mapAsync does when the device or
 * buffer fails.
 */
export async function mapWhenDone(
  buffer: GPUBuffer,
  size: number,
  expectMs: number,
  sleep: (ms: number) => Promise<unknown> = timerSleep,
): Promise<number> {
  let waited = 0;
  for (let probes = 1; ; probes++) {
    let state: 'pending' | 'done' | { error: unknown } = 'pending';
    const map = buffer.mapAsync(GPUMapMode.READ, 0, size).then(
      () => {
        state = 'done';
      },
      (error: unknown) => {
        state = { error };
      },
    );
    await Promise.race([map, sleep(PROBE.windowMs)]);
    const now = state as 'pending' | 'done' | { error: unknown };
    if (now === 'done') return probes;
    if (now !== 'pending') throw now.error;
    // Withdrawn: its rejection (or a success that raced the unmap) is ours and means nothing; a real failure
    // shows again on the next probe.
    buffer.unmap();
    await map;
    const gap = Math.min(PROBE.maxGapMs, Math.max(PROBE.minGapMs, expectMs / 20, (waited + PROBE.windowMs) / 10));
    await sleep(gap);
    waited += PROBE.windowMs + gap;
  }
}

/** One read's place in a Pace. */
export interface Ticket {
  readonly submitted: number;
  readonly units: number;
  readonly rate: Rate;
}

/**
 * True in Node (WebGPU there is Dawn's bindings, the npm package webgpu, which poll as described above), false in
 * a browser, whose GPU process reports completion without the page's thread polling.
 */
export function pollsWhileWaiting(): boolean {
  const process = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof process?.versions?.node === 'string' && !('document' in globalThis);
}
