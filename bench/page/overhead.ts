// Where the wall time of a small training step goes, the same way in the page and in Node (bench/overhead.ts):
// recording and submitting on the CPU, waiting for the queue, and the GPU's own time for the step's pass.
// At small batches a step's kernels take little time, so what a runtime adds around them shows up here.
//
// It also tries one change to how a training loop waits (groupsLateMs): dawn.node polls for GPU events on every
// turn of Node's event loop for as long as any promise of it (mapAsync, onSubmittedWorkDone) is pending, so a
// loop that maps its loss read-back as soon as it submits, as fit() does, keeps a CPU core busy polling for the
// whole run. The late variant sleeps on a timer until the group should be done and only then maps it.
import type { MatmulChoice, Mlp } from '../../src/index.js';
import { median, round4 } from './common.js';
import { engineFor, trainingCase } from './webgrad.js';

export interface OverheadCase {
  /** Layer sizes, e.g. [784, 256, 256, 10] or a tiny [16, 16, 2] whose kernels cost next to nothing. */
  sizes: number[];
  batch: number;
  variant?: MatmulChoice;
  /** Each loop runs about this long (at least minSteps steps). */
  budgetMs?: number;
  minSteps?: number;
  /** Called as each loop starts and after the last ('end'): Node reads its threads' CPU time there. */
  onPhase?: (phase: OverheadPhase) => void;
}

export const OVERHEAD_PHASES = [
  'synced',
  'pipelined',
  'mapped',
  'span-polled',
  'span-quiet',
  'groups',
  'groups-late',
  'fit',
  'fit-one',
] as const;
export type OverheadPhase = (typeof OVERHEAD_PHASES)[number] | 'end';

export interface OverheadResult {
  sizes: number[];
  batch: number;
  variant: string;
  /** Steps per loop. */
  steps: number;
  /** Wall ms per step when every step waits for the queue (onSubmittedWorkDone) before the next. */
  syncedMs: number;
  /** Of syncedMs, medians: encoding the step, uploading its values + submit, waiting for onSubmittedWorkDone. */
  recordMs: number;
  submitMs: number;
  waitMs: number;
  /** Wall ms per step, steps submitted back to back and one wait at the end (how the bench times training). */
  pipelinedMs: number;
  /** Wall ms per step when every step is waited for by mapping its timestamps. */
  mappedMs: number;
  /** GPU time of the step's compute pass (timestamp queries), median; null without 'timestamp-query'. */
  kernelMs: number | null;
  /**
   * GPU ms per step of `steps` steps submitted back to back, from the first pass's start to the last one's end
   * (timestamps): waited for at once (polledSpanMs) or after sleeping on a timer until they should be done
   * (quietSpanMs). Null without 'timestamp-query'. In Node the first waits while dawn.node polls, the second not.
   */
  polledSpanMs: number | null;
  quietSpanMs: number | null;
  /** fit()'s schedule by hand: GROUP steps per group, a read-back per group mapped at once, 2 groups in flight. */
  groupsMs: number;
  /** The same, each read-back mapped only once it is needed, after a timer sleep until it should be done. */
  groupsLateMs: number;
  /** Wall ms per step of model.fit() over steps·batch rows: default options, and one step per submit. */
  fitMs: number;
  fitOneMs: number;
}

/** Steps per group and groups in flight, as fit()'s defaults (stepsPerSubmit 8, maxInFlight 2). */
const GROUP = 8;
const IN_FLIGHT = 2;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Training = Awaited<ReturnType<typeof trainingCase>>;

/** Repeats `body` (one step) until budgetMs has passed and minSteps steps ran; returns the step count. */
async function loop(body: () => unknown, budgetMs: number, minSteps: number): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  while (n < minSteps || performance.now() - t0 < budgetMs) {
    await body();
    n++;
  }
  return n;
}

/** Every step waited for, with the time of each part; as long as the budget allows. */
async function synced(device: GPUDevice, t: Training, budget: number, minSteps: number) {
  const [rec, sub, wait]: number[][] = [[], [], []];
  const t0 = performance.now();
  const steps = await loop(
    async () => {
      const a = performance.now();
      const r = t.record();
      const b = performance.now();
      t.submit(r);
      const d = performance.now();
      await device.queue.onSubmittedWorkDone();
      rec.push(b - a);
      sub.push(d - b);
      wait.push(performance.now() - d);
    },
    budget,
    minSteps,
  );
  const syncedMs = (performance.now() - t0) / steps;
  return { steps, syncedMs, recordMs: median(rec), submitMs: median(sub), waitMs: median(wait) };
}

/** Each step waited for by mapping its pass's timestamps: wall ms per step and the GPU's median ms. */
async function mapped(device: GPUDevice, t: Training, steps: number) {
  const timestamps = device.features.has('timestamp-query');
  const querySet = timestamps ? device.createQuerySet({ type: 'timestamp', count: 2 }) : null;
  const resolve = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const kernel: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    if (!querySet) {
      t.step();
      await device.queue.onSubmittedWorkDone();
      continue;
    }
    const descriptor = { timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } };
    t.submit(
      t.record(descriptor, (encoder) => {
        encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
        encoder.copyBufferToBuffer(resolve, 0, read, 0, 16);
      }),
    );
    await read.mapAsync(GPUMapMode.READ);
    const [a, b] = new BigUint64Array(read.getMappedRange().slice(0));
    read.unmap();
    kernel.push(Number(b - a) / 1e6);
  }
  const mappedMs = (performance.now() - t0) / steps;
  for (const b of [querySet, resolve, read]) b?.destroy();
  return { mappedMs, kernelMs: kernel.length ? median(kernel) : null };
}

/**
 * GPU time per step of `steps` steps (at most 2048: one query set) submitted back to back, from the first pass's
 * start to the last pass's end. `sleepMs` > 0: sleeps on a timer that long before the first wait.
 */
async function gpuSpan(device: GPUDevice, t: Training, steps: number, sleepMs: number) {
  if (!device.features.has('timestamp-query')) return null;
  const n = Math.min(steps, 2048);
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * n });
  const resolve = device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  for (let i = 0; i < n; i++) {
    const last = i === n - 1;
    const descriptor = {
      timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    };
    t.submit(
      t.record(descriptor, (encoder) => {
        if (!last) return;
        encoder.resolveQuerySet(querySet, 0, 2 * n, resolve, 0);
        encoder.copyBufferToBuffer(resolve, 0, read, 0, 16 * n);
      }),
    );
  }
  if (sleepMs > 0) await sleep(sleepMs);
  await read.mapAsync(GPUMapMode.READ);
  const stamps = new BigUint64Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const b of [querySet, resolve, read]) b.destroy();
  return Number(stamps[2 * n - 1] - stamps[0]) / 1e6 / n;
}

/** gpuSpan waited for at once and after a sleep, alternately, `rounds` times each: the medians. */
async function spans(device: GPUDevice, t: Training, steps: number, phase: (p: OverheadPhase) => void, rounds = 2) {
  const polled: number[] = [];
  const quiet: number[] = [];
  for (let r = 0; r < rounds; r++) {
    phase('span-polled');
    const p = await gpuSpan(device, t, steps, 0);
    if (p === null) return { polledSpanMs: null, quietSpanMs: null };
    polled.push(p);
    phase('span-quiet');
    // Long enough for the GPU to finish: a quarter more than the polled run took.
    quiet.push((await gpuSpan(device, t, steps, 1.25 * p * Math.min(steps, 2048))) ?? p);
  }
  return { polledSpanMs: median(polled), quietSpanMs: median(quiet) };
}

/**
 * fit()'s schedule: groups of GROUP steps, each followed by a copy of the losses into its own mappable buffer,
 * the CPU waiting for the oldest group once more than IN_FLIGHT are queued. `late` false maps each read-back
 * right after its submit, as Runtime.readBack does; true maps it when it is needed, after sleeping on a timer
 * until the time it should be done (the last group's completion plus the mean interval between completions).
 * Sleeping too long costs no throughput as long as the IN_FLIGHT groups behind it keep the GPU busy.
 */
async function groups(device: GPUDevice, t: Training, losses: GPUBuffer, steps: number, late: boolean) {
  const count = Math.max(IN_FLIGHT + 2, Math.ceil(steps / GROUP));
  const usage = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
  const buffers = Array.from({ length: IN_FLIGHT + 1 }, () => device.createBuffer({ size: 8, usage }));
  const queue: { buffer: GPUBuffer; map: Promise<void> | null }[] = [];
  // Expected ms between two groups' completions. A map that resolves at once means the sleep overshot and the
  // group's completion time is unknown: the estimate shrinks. A map that had to wait gives the completion time.
  let lastDone = Number.NaN;
  let interval = 0;
  const settle = async () => {
    const g = queue.shift()!;
    let waited = true;
    if (g.map) await g.map;
    else {
      const ahead = lastDone + interval - performance.now();
      if (interval > 0 && ahead > 0) await sleep(ahead);
      const t0 = performance.now();
      await g.buffer.mapAsync(GPUMapMode.READ);
      waited = performance.now() - t0 > 1;
    }
    g.buffer.unmap();
    const now = performance.now();
    if (!waited) interval *= 0.75;
    else if (!Number.isNaN(lastDone)) interval = interval ? 0.8 * interval + 0.2 * (now - lastDone) : now - lastDone;
    lastDone = now;
  };
  const t0 = performance.now();
  for (let k = 0; k < count; k++) {
    for (let s = 0; s < GROUP; s++) t.step();
    const buffer = buffers[k % buffers.length];
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(losses, 0, buffer, 0, 8);
    device.queue.submit([encoder.finish()]);
    queue.push({ buffer, map: late ? null : buffer.mapAsync(GPUMapMode.READ) });
    if (queue.length > IN_FLIGHT) await settle();
  }
  while (queue.length) await settle();
  const ms = (performance.now() - t0) / (count * GROUP);
  for (const b of buffers) b.destroy();
  return ms;
}

/** Wall ms per step of model.fit() on steps·batch rows (the data uploaded by a first, untimed fit). */
async function fitMsPerStep(model: Mlp, c: OverheadCase, steps: number, stepsPerSubmit?: number) {
  const rows = steps * c.batch;
  const inputs = c.sizes[0];
  const classes = c.sizes[c.sizes.length - 1];
  const data = {
    x: Float32Array.from({ length: rows * inputs }, (_, i) => Math.sin(i) / 2),
    y: Uint32Array.from({ length: rows }, (_, i) => i % classes),
  };
  const options = { batchSize: c.batch, epochs: 1, shuffle: false, stepsPerSubmit };
  await model.fit(data, options);
  const t0 = performance.now();
  await model.fit(data, options);
  return (performance.now() - t0) / steps;
}

export async function measureOverhead(device: GPUDevice, c: OverheadCase): Promise<OverheadResult> {
  const phase = c.onPhase ?? (() => {});
  const engine = await engineFor(device, c.variant ?? 'auto');
  const t = await trainingCase(engine, c.sizes, c.batch);
  try {
    // Warm-up: pipelines, allocator, JIT.
    for (let i = 0; i < 3; i++) t.step();
    await device.queue.onSubmittedWorkDone();
    // The synced loop runs for the budget and sets the other loops' step count: a loop that does not wait could
    // queue thousands of steps within the budget.
    phase('synced');
    const s = await synced(device, t, c.budgetMs ?? 1000, c.minSteps ?? 5);
    phase('pipelined');
    const t0 = performance.now();
    for (let i = 0; i < s.steps; i++) t.step();
    await device.queue.onSubmittedWorkDone();
    const pipelinedMs = (performance.now() - t0) / s.steps;
    phase('mapped');
    const m = await mapped(device, t, s.steps);
    const sp = await spans(device, t, s.steps, phase);
    phase('groups');
    const groupsMs = await groups(device, t, t.model.network.losses, s.steps, false);
    phase('groups-late');
    const groupsLateMs = await groups(device, t, t.model.network.losses, s.steps, true);
    phase('fit');
    const fitMs = await fitMsPerStep(t.model, c, Math.max(s.steps, 2 * GROUP));
    phase('fit-one');
    const fitOneMs = await fitMsPerStep(t.model, c, Math.max(s.steps, 2 * GROUP), 1);
    phase('end');
    const r = { ...s, pipelinedMs, ...m, ...sp, groupsMs, groupsLateMs, fitMs, fitOneMs };
    const rounded = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : round4(v)]));
    return { sizes: c.sizes, batch: c.batch, variant: engine.matmul.name, ...rounded } as OverheadResult;
  } finally {
    t.model.dispose();
  }
}
