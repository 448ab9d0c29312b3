// Timing matmul variants on an engine's device, for the choice gpu/autotune.ts makes.
import { type Dispatch, DispatchBuilder, record } from './dispatch.js';
import {
  dims,
  EPILOGUE,
  FORM,
  MATMUL_VARIANTS,
  type MatmulTimings,
  type MatmulVariantName,
  matmulGroups,
} from './kernels.js';
import type { Runtime } from './runtime.js';

const SIZE = 256;
const ROUNDS = 5;
const TARGET_MS = 50;
const MAX_REPEATS = 64;

/**
 * Times one compute pass: by its begin and end timestamps where the device has 'timestamp-query', else by the
 * wall clock from submit until the queue has drained. Waits as the runtime's reads do (in probes where a pending
 * wait would keep a core polling, which slows a CPU adapter by more than the differences being timed).
 */
class PassClock {
  private readonly querySet: GPUQuerySet | null;
  private readonly resolve: GPUBuffer | null;

  constructor(private readonly runtime: Runtime) {
    const timestamps = runtime.device.features.has('timestamp-query');
    this.querySet = timestamps ? runtime.device.createQuerySet({ type: 'timestamp', count: 2 }) : null;
    const S = GPUBufferUsage;
    this.resolve = timestamps ? runtime.createBuffer('autotune-ts', 16, S.QUERY_RESOLVE | S.COPY_SRC) : null;
  }

  /** Milliseconds for one pass running `list` `repeats` times. */
  async time(list: Dispatch[], repeats: number): Promise<number> {
    const { runtime, querySet, resolve } = this;
    const encoder = runtime.device.createCommandEncoder();
    const pass = encoder.beginComputePass(
      querySet ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {},
    );
    for (let r = 0; r < repeats; r++) record(pass, list, 0);
    pass.end();
    if (querySet && resolve) encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
    const t0 = performance.now();
    const read = { buffer: resolve ?? runtime.dummyRead, offset: 0, size: resolve ? 16 : 4 };
    const [words] = await runtime.readBack(encoder, [read]);
    const wall = performance.now() - t0;
    if (!resolve) return wall;
    const [begin, end] = new BigUint64Array(words.buffer, words.byteOffset, 2);
    const ms = Number(end - begin) / 1e6;
    // Some drivers report zero or reversed timestamps (a clock reset): the wall clock then.
    return ms > 0 ? ms : wall;
  }

  destroy(): void {
    this.querySet?.destroy();
    if (this.resolve) this.runtime.releaseBuffer(this.resolve);
  }
}

/**
 * Times matmul variants on the engine's device: NT, NN and TN products of 256 x 256 x 256 in one pass per variant
 * and round, milliseconds per pass, the minimum over rounds, variants interleaved so all see the same load. A
 * variant whose pipeline the driver rejects is left out.
 */
export async function timeVariants(runtime: Runtime, names: readonly MatmulVariantName[]): Promise<MatmulTimings> {
  const n = SIZE;
  const S = GPUBufferUsage;
  const a = runtime.createBuffer('autotune-a', n * n * 4, S.STORAGE | S.COPY_DST);
  const b = runtime.createBuffer('autotune-b', n * n * 4, S.STORAGE | S.COPY_DST);
  const c = runtime.createBuffer('autotune-c', n * n * 4, S.STORAGE);
  const values = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i) / 16);
  runtime.write(a, 0, values);
  runtime.write(b, 0, values);
  const uniforms: GPUBuffer[] = [];
  try {
    return await timeLists(runtime, await productLists(runtime, names, [a, b, c], uniforms));
  } finally {
    for (const buffer of [a, b, c, ...uniforms]) runtime.releaseBuffer(buffer);
  }
}

/** The three products of each variant the driver accepts, as one dispatch list per variant. */
async function productLists(
  runtime: Runtime,
  names: readonly MatmulVariantName[],
  [a, b, c]: GPUBuffer[],
  uniforms: GPUBuffer[],
): Promise<Map<MatmulVariantName, Dispatch[]>> {
  const n = SIZE;
  const lists = new Map<MatmulVariantName, Dispatch[]>();
  const gpu = runtime.device;
  for (const variant of names.map((name) => MATMUL_VARIANTS[name])) {
    gpu.pushErrorScope('internal');
    gpu.pushErrorScope('validation');
    const list: Dispatch[] = [];
    const builder = new DispatchBuilder(runtime);
    for (const form of [FORM.NT, FORM.NN, FORM.TN]) {
      builder.add(
        list,
        variant.kernel,
        { FORM: form, EPILOGUE: EPILOGUE.STORE, ACT: 0 },
        dims.matmul({ M: n, N: n, K: n, lda: n / 4, ldb: n / 4, ldc: n / 4, arows: n, brows: n }),
        [a, b, c, runtime.dummyRead, runtime.dummyWrite],
        matmulGroups(variant, n, n),
      );
    }
    uniforms.push(builder.build(`autotune-${variant.name}`));
    const invalid = await gpu.popErrorScope();
    const internal = await gpu.popErrorScope();
    if (!invalid && !internal) lists.set(variant.name, list);
  }
  return lists;
}

/** Milliseconds per pass of each list: the best of ROUNDS rounds after a warm-up. */
async function timeLists(runtime: Runtime, lists: Map<MatmulVariantName, Dispatch[]>): Promise<MatmulTimings> {
  const timings: MatmulTimings = {};
  const clock = new PassClock(runtime);
  try {
    // The warm-up round (on a CPU implementation it includes compiling the kernels to machine code) also
    // sizes the timed rounds: the products are repeated within the pass until the fastest variant takes
    // about TARGET_MS, so that on a fast GPU the kernels, not the submission, are what is timed, and on a CPU
    // adapter a wait's first probe (which slows the work it waits for) is a small part of the pass.
    let fastest = Number.POSITIVE_INFINITY;
    for (const list of lists.values()) fastest = Math.min(fastest, await clock.time(list, 1));
    const repeats = Math.min(MAX_REPEATS, Math.max(1, Math.ceil(TARGET_MS / Math.max(fastest, 1e-3))));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, list] of lists) {
        const ms = (await clock.time(list, repeats)) / repeats;
        timings[name] = Math.min(timings[name] ?? Number.POSITIVE_INFINITY, ms);
      }
    }
  } finally {
    clock.destroy();
  }
  return timings;
}
