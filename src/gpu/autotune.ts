import { type Dispatch, DispatchBuilder, record } from './dispatch.js';
import { timeVariants } from './matmul-timing.js';
import {
  dims,
  KERNELS,
  kernelFeature,
  MATMUL_VARIANTS,
  type MatmulTimings,
  type MatmulVariant,
  type MatmulVariantName,
} from './kernels.js';
import type { AdapterDescription } from './device.js';
import type { Runtime } from './runtime.js';
import { shaderSources } from './shaders.gen.js';
import { isTunedMatmul, NO_STORE, type TunedMatmul, type TuningStore } from './tuning-store.js';

/**
 * Which matmul kernel an engine uses. GPUs and CPU implementations of WebGPU want different kernels (see the
 * headers of shaders/matmul.wgsl, matmul_wide.wgsl, matmul_wide_subgroup.wgsl and matmul_tiled.wgsl):
 * - 'auto' (default): the fastest of the kernels made for the kind of adapter, timed once per adapter (a kernel
 *   later in the list must be faster by more than AUTO_MARGIN). On GPUs, 'regular' and 'tiled', timed again in
 *   each page or process. On adapters that run shaders on the CPU (SwiftShader, llvmpipe/lavapipe, WARP),
 *   'subgroup' (where the device runs subgroups of four), 'wide' and 'regular': compiling their pipelines there
 *   takes seconds, so the decision is kept between processes and page loads (in Node a file in the user's cache
 *   folder, in browsers this origin's IndexedDB) until the adapter or the kernels change.
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
 * How much faster than the variants before it in the list a variant must be for 'auto' to take it. The lists put
 * first what is made for the kind of adapter, and the decision is kept between runs, so one timing disturbed by
 * other work must not swap in a worse kernel for good: on SwiftShader in headless Chromium, fresh timings put
 * 'subgroup' ahead of 'wide' by 1.12 to 1.47 times, yet one taken during a benchmark kept 'wide', which trains at
 * batch 64 about 1.3 times slower.
 */
export const AUTO_MARGIN = 0.1;

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
  // Only a CPU adapter's decision is kept between runs: there timing costs seconds, on a GPU milliseconds.
  const cpu = runsOnCpu(runtime.adapter);
  const kept = cpu ? store : NO_STORE;
  if (choice === 'timed') return timeMatmul(runtime, await runnableVariants(runtime), kept);
  return timeMatmul(runtime, cpu ? await runnable(runtime, CPU_VARIANTS) : GPU_VARIANTS, kept, AUTO_MARGIN);
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

/**
 * The key of a decision in a TuningStore: the adapter, the variants timed (in order), the margin and a hash of
 * their shader sources, so that a change to a kernel makes the decision again.
 */
export function storeKey(adapter: AdapterDescription, names: readonly MatmulVariantName[], margin = 0): string {
  const files = [...new Set(names.flatMap((name) => KERNELS[MATMUL_VARIANTS[name].kernel].modules))].sort();
  // FNV-1a, 32 bits: a change detector, not a checksum against tampering.
  let hash = 0x811c9dc5;
  for (const file of files) {
    const text = shaderSources[file] ?? '';
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return `matmul ${adapterKey(adapter)} [${names}]${margin ? ` margin ${margin}` : ''} ${hash.toString(16)}`;
}

/**
 * Times matmul variants on the engine's device (see timeVariants) and returns the one pickVariant keeps. Kept per
 * adapter, list of variants and margin for the life of the page or process, and in `store` beyond it.
 */
export async function timeMatmul(
  runtime: Runtime,
  names: readonly MatmulVariantName[],
  store: TuningStore = NO_STORE,
  margin = 0,
): Promise<{ variant: MatmulVariant; timings: MatmulTimings }> {
  const key = storeKey(runtime.adapter, names, margin);
  let known = decided.get(key);
  if (!known) {
    const kept = await store.get(key);
    if (isTunedMatmul(kept, names)) decided.set(key, (known = kept));
  }
  if (known) return { variant: MATMUL_VARIANTS[known.variant], timings: known.timings };
  store.willTime?.(names);

  const timings = await timeVariants(runtime, names);
  const best = pickVariant(timings, names, margin);
  if (!best) throw new Error(`createEngine: the driver rejected every matmul kernel (${names.join(', ')})`);
  decided.set(key, { variant: best, timings });
  await store.set(key, { variant: best, timings });
  return { variant: MATMUL_VARIANTS[best], timings };
}

/**
 * The variant to keep from timings, going through `names` in order: the first timed, then any later one faster
 * than the one kept by more than `margin` (a fraction). Null where none was timed.
 */
export function pickVariant(
  timings: MatmulTimings,
  names: readonly MatmulVariantName[],
  margin = 0,
): MatmulVariantName | null {
  let best: MatmulVariantName | null = null;
  for (const name of names) {
    const ms = timings[name];
    if (ms === undefined) continue;
    if (best === null || ms < (timings[best] as number) * (1 - margin)) best = name;
  }
  return best;
}
