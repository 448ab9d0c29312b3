import { KERNELS, type KernelName, SLOT_BYTES, STEP_BYTES, type UniformWord } from './kernels.js';
import type { Runtime } from './runtime.js';

/** One recorded dispatch: pipeline, bind group and grid, all made once and replayed every step. */
export interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number];
  /** Binds the per-step uniform through a dynamic offset. */
  step: boolean;
}

/** A storage binding: a whole buffer, or a range of one (offsets are multiples of 256 bytes). */
export type Resource = GPUBuffer | GPUBufferBinding;

interface Spec {
  list: Dispatch[];
  kernel: KernelName;
  constants: Record<string, number>;
  entry: string;
  words: UniformWord[];
  resources: Resource[];
  workgroups: [number, number];
}

/**
 * Collects dispatches, then makes their bind groups and ONE uniform buffer holding every dispatch's dimensions
 * (a 256-byte slot each). Kernels with a `step` binding take the per-step uniform buffer as their first resource.
 */
export class DispatchBuilder {
  private specs: Spec[] = [];

  constructor(private readonly runtime: Runtime) {}

  add(
    list: Dispatch[],
    kernel: KernelName,
    constants: Record<string, number>,
    words: UniformWord[],
    resources: Resource[],
    workgroups: [number, number],
    entry = 'main',
  ): void {
    this.specs.push({ list, kernel, constants, entry, words, resources, workgroups });
  }

  /** Creates the uniform buffer (returned, for the caller to release) and pushes each dispatch onto its list. */
  build(label: string): GPUBuffer {
    const { runtime } = this;
    const device = runtime.device;
    const bytes = Math.max(1, this.specs.length) * SLOT_BYTES;
    const uniforms = runtime.createBuffer(label, bytes, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const data = new ArrayBuffer(bytes);
    const u32 = new Uint32Array(data);
    const f32 = new Float32Array(data);
    this.specs.forEach((spec, s) => {
      const at = s * (SLOT_BYTES / 4);
      spec.words.forEach((w, i) => {
        if (typeof w === 'number') u32[at + i] = w;
        else f32[at + i] = w.f32;
      });
    });
    runtime.write(uniforms, 0, data);
    this.specs.forEach((spec, s) => {
      const kinds: readonly string[] = KERNELS[spec.kernel].bindings;
      const step = kinds.includes('step');
      const entries: GPUBindGroupEntry[] = [
        { binding: 0, resource: { buffer: uniforms, offset: s * SLOT_BYTES, size: 32 } },
      ];
      spec.resources.forEach((r, i) => {
        const resource: GPUBufferBinding = 'buffer' in r ? r : { buffer: r };
        // The step uniform is bound 16 bytes wide; the dynamic offset picks the step's slot.
        entries.push({
          binding: i + 1,
          resource: step && i === 0 ? { buffer: resource.buffer, size: STEP_BYTES } : resource,
        });
      });
      spec.list.push({
        pipeline: runtime.pipelines.get(spec.kernel, spec.constants, spec.entry),
        bindGroup: device.createBindGroup({
          label: spec.kernel,
          layout: runtime.pipelines.layout(spec.kernel),
          entries,
        }),
        workgroups: spec.workgroups,
        step,
      });
    });
    this.specs = [];
    return uniforms;
  }
}

/** Replays dispatches into a compute pass; `slot` selects the per-step uniform of those that read one. */
export function record(pass: GPUComputePassEncoder, list: Dispatch[], slot: number): void {
  for (const d of list) {
    pass.setPipeline(d.pipeline);
    if (d.step) pass.setBindGroup(0, d.bindGroup, [slot * SLOT_BYTES]);
    else pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1]);
  }
}

/** A 2-D grid of `size`-wide workgroups covering `count` invocations (1-D grids stop at 65535 groups). */
export function grid(runtime: Runtime, count: number, size: number): [number, number] {
  const groups = Math.max(1, Math.ceil(count / size));
  const x = Math.min(groups, runtime.limits.maxComputeWorkgroupsPerDimension);
  return [x, Math.ceil(groups / x)];
}
