import { type Dispatch, DispatchBuilder, record } from './dispatch.js';
import {
  dims,
  EPILOGUE,
  FORM,
  KERNELS,
  kernelFeature,
  MATMUL_VARIANTS,
  type MatmulTimings,
  type MatmulVariant,
  type MatmulVariantName,
  matmulGroups,
} from './kernels.js';
import type { AdapterDescription } from './device.js';
import type { Runtime } from './runtime.js';
import { shaderSources } from './shaders.gen.js';
import { isTunedMatmul, NO_STORE, type TunedMatmul, type TuningStore } from './tuning-store.js';

/**
 * Which matmul kernel an engine uses. GPUs and CPU implementations of WebGPU want different kernels (see the
 * headers of shaders/matmul.wgsl, matmul_wide.wgsl, matmul_wide_subgroup.wgsl and matmul_tiled.wgsl):
 * - 'auto' (default): the fastest of the kernels made for the kind of adapter, timed once per adapter. On GPUs,
 *   'regular' and 'tiled', timed again in each page or process. On adapters that run shaders on the CPU
 *   (SwiftShader, llvmpipe/lavapipe, WARP), 'subgroup' (where the device runs subgroups of four), 'wide' and
 *   'regular': compiling their pipelines there takes seconds, so the decision is kept between processes and page
 *   loads (in Node a file in the user's cache folder, in browsers this origin's IndexedDB) until the adapter or
 *   the kernels change.
 * - 'timed': times every variant the device can run (once per adapter, kept as 'auto' keeps it) and keeps the
 *   fastest.
 * - 'regular', 'wide', 'subgroup' or 'tiled': that variant, refused where the device cannot run it.
 */
export type MatmulChoice = MatmulVariantName | 'auto' | 'timed';

// Names that software (CPU) implementations of Vulkan, D3D12 and Metal report through WebGPU adapters.
const CPU_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render driver|software/i;

/** True for an adapter that runs shaders on the CPU: the spec's fallback adapter, or a known software driver. */
export function runsOnCpu(adapter: AdapterDescription): boolean {
  const { vendor, architecture, device, description, fallback } = adapter;
  return fallback || CPU_ADAPTER.test([vendor, architecture, device, description].join(' '));
}

/** Variants 'auto' times on adapters that are not CPU implementations. */
export const GPU_VARIANTS: readonly MatmulVariantName[] = ['regular', 'tiled'];

/**
 * Variants 'auto' times on CPU implementations, where a storage load costs far more than arithmetic: the two made
 * for them and, as a check on both, the plain one ('tiled' stages through workgroup memory, which a CPU
 * emulates lane by lane: a quarter of their speed on SwiftShader).
 */
export const CPU_VARIANTS: readonly MatmulVariantName[] = ['subgroup', 'wide', 'regular'];

/**
 * The engine's matmul variant for a choice, and the timings behind it (null where nothing was timed). A forced
 * variant is returned as it is, or refused where the device cannot run it; see MatmulChoice for the others.
 */
export async function chooseMatmul(
  runtime: Runtime,
  choice: MatmulChoice,
  store: TuningStore = NO_STORE,
): Promise<{ variant: MatmulVariant; timings: MatmulTimings | null }> {
  if (choice !== 'auto' && choice !== 'timed') {
    if (!(await canRun(runtime, choice))) throw new Error(`createEngine: ${whyNot(runtime, choice)}`);
    return { variant: MATMUL_VARIANTS[choice], timings: null };
  }
  if (!runsOnCpu(runtime.adapter)) {
    return timeMatmul(runtime, choice === 'timed' ? await runnableVariants(runtime) : GPU_VARIANTS);
  }
  const names = choice === 'timed' ? await runnableVariants(runtime) : await runnable(runtime, CPU_VARIANTS);
  return timeMatmul(runtime, names, store);
}

/** Whether the device can run a variant: all can, but 'subgroup' only where subgroups are groups of four. */
function canRun(runtime: Runtime, name: MatmulVariantName): Promise<boolean> | boolean {
  return name !== 'subgroup' || subgroupsOfFour(runtime);
}

/** Variants the engine's device can run (see canRun). */
export function runnableVariants(runtime: Runtime): Promise<MatmulVariantName[]> {
  return runnable(runtime, Object.keys(MATMUL_VARIANTS) as MatmulVariantName[]);
}

async function runnable(runtime: Runtime, names: readonly MatmulVariantName[]): Promise<MatmulVariantName[]> {
  const can: MatmulVariantName[] = [];
  for (const name of names) if (await canRun(runtime, name)) can.push(name);
  return can;
}

function whyNot(runtime: Runtime, name: MatmulVariantName): string {
  const { kernel } = MATMUL_VARIANTS[name];
  if (!runtime.pipelines.supports(kernel)) {
    return `matmul '${name}' needs the device feature '${kernelFeature(kernel)}', which this device does not have`;
  }
  return `matmul '${name}' needs subgroups of four invocations, consecutive in local_invocation_index; this device's are not`;
}

// Per adapter, for the life of the page or process.
const probed = new Map<string, boolean>();

/**
 * True where the device has 'subgroups', its adapter reports (if it does) a subgroup size of exactly four, and
 * it cuts a 64-invocation workgroup into subgroups of four consecutive invocations (lane = local_invocation_index
 * % 4), as shaders/matmul_wide_subgroup.wgsl assumes: checked once per adapter by running
 * shaders/subgroup_probe.wgsl.
 */
export async function subgroupsOfFour(runtime: Runtime): Promise<boolean> {
  if (!runtime.pipelines.supports('subgroup_probe')) return false;
  const key = adapterKey(runtime.adapter);
  const known = probed.get(key);
  if (known !== undefined) return known;
  // Where the adapter says its subgroup sizes, they must all be four: a size that may vary between pipelines
  // could differ between the probe and the matmul.
  const sizes = (runtime.device as { adapterInfo?: { subgroupMinSize?: number; subgroupMaxSize?: number } })
    .adapterInfo;
  if (sizes?.subgroupMinSize !== undefined && (sizes.subgroupMinSize !== 4 || sizes.subgroupMaxSize !== 4)) {
    probed.set(key, false);
    return false;
  }
  const out = runtime.createBuffer('subgroup-probe', 64 * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  const list: Dispatch[] = [];
  const builder = new DispatchBuilder(runtime);
  builder.add(list, 'subgroup_probe', {}, dims.subgroup_probe({ n: 64 }), [out], [1, 1]);
  const uniforms = builder.build('subgroup-probe');
  try {
    const encoder = runtime.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    record(pass, list, 0);
    pass.end();
    const [values] = await runtime.readBack(encoder, [{ buffer: out, offset: 0, size: 64 * 4 }]);
    const words = new Uint32Array(values.buffer, values.byteOffset, 64);
    const fours = words.every((word, li) => word === 4 * 256 + (li % 4));
    probed.set(key, fours);
    return fours;
  } finally {
    runtime.releaseBuffer(out);
    runtime.releaseBuffer(uniforms);
  }
}

function adapterKey({ vendor, architecture, device, description }: AdapterDescription): string {
  return [vendor, architecture, device, description].join(' / ');
}

// One decision per adapter for the life of the page or process: engines made later on the same adapter (and
// devices replaced after a loss) reuse it instead of timing again.
const decided = new Map<string, TunedMatmul>();

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
 * The key of a decision in a TuningStore: the adapter, the variants timed and a hash of their shader sources, so
 * that a change to a kernel makes the decision again.
 */
export function storeKey(adapter: AdapterDescription, names: readonly MatmulVariantName[]): string {
  const files = [...new Set(names.flatMap((name) => KERNELS[MATMUL_VARIANTS[name].kernel].modules))].sort();
  // FNV-1a, 32 bits: a change detector, not a checksum against tampering.
  let hash = 0x811c9dc5;
  for (const file of files) {
    const text = shaderSources[file] ?? '';
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return `matmul ${adapterKey(adapter)} [${names}] ${hash.toString(16)}`;
}

/**
 * Times matmul variants on the engine's device, NT, NN and TN products of 256 x 256 x 256 in one pass per
 * round, and returns the fastest (the minimum over rounds, variants interleaved so all see the same load). A
 * variant whose pipeline the driver rejects is skipped. Kept per adapter and list of variants for the life of
 * the page or process, and in `store` beyond it.
 */
export async function timeMatmul(
  runtime: Runtime,
  names: readonly MatmulVariantName[],
  store: TuningStore = NO_STORE,
): Promise<{ variant: MatmulVariant; timings: MatmulTimings }> {
  const key = storeKey(runtime.adapter, names);
  let known = decided.get(key);
  if (!known) {
    const kept = await store.get(key);
    if (isTunedMatmul(kept, names)) decided.set(key, (known = kept));
  }
  if (known) return { variant: MATMUL_VARIANTS[known.variant], timings: known.timings };
  store.willTime?.(names);

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
    const lists = await productLists(runtime, names, [a, b, c], uniforms);
    const timings = await timeLists(runtime, lists);
    let best: MatmulVariantName = names[0];
    for (const [name, ms] of Object.entries(timings) as [MatmulVariantName, number][]) {
      if (ms < (timings[best] ?? Number.POSITIVE_INFINITY)) best = name;
    }
    decided.set(key, { variant: best, timings });
    await store.set(key, { variant: best, timings });
    return { variant: MATMUL_VARIANTS[best], timings };
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
