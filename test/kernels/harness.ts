import type { Engine } from '../../src/engine.js';
import { type KernelName, KERNELS, SLOT_BYTES } from '../../src/gpu/kernels.js';

/** A uniform word written as f32 (untagged numbers are u32). */
export type Word = number | { f32: number };

/**
 * Runs one kernel once on fresh buffers and reads back the bindings marked as outputs. Bindings follow the
 * kernel's table in src/gpu/kernels.ts: the uniform first, then each storage buffer as initial data (or a size
 * in floats); a `step` binding takes the words of the per-step uniform.
 */
export async function runKernel(
  engine: Engine,
  kernel: KernelName,
  options: {
    constants?: Record<string, number>;
    entry?: string;
    dims: Word[];
    step?: Word[];
    buffers: (Float32Array | Uint32Array | number)[];
    workgroups: [number, number?];
  },
): Promise<Float32Array<ArrayBuffer>[]> {
  const device = engine.device;
  const kinds = KERNELS[kernel].bindings;
  const words = (list: Word[]) => {
    const data = new ArrayBuffer(SLOT_BYTES);
    list.forEach((w, i) => {
      if (typeof w === 'number') new Uint32Array(data)[i] = w;
      else new Float32Array(data)[i] = w.f32;
    });
    return data;
  };
  const made: GPUBuffer[] = [];
  const uniform = (list: Word[]) => {
    const b = device.createBuffer({ size: SLOT_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(b, 0, words(list));
    made.push(b);
    return b;
  };
  const storage: GPUBuffer[] = [];
  let next = 0;
  const entries: GPUBindGroupEntry[] = kinds.map((kind, binding) => {
    if (kind === 'uniform') return { binding, resource: { buffer: uniform(options.dims) } };
    if (kind === 'step') return { binding, resource: { buffer: uniform(options.step ?? []) } };
    const init = options.buffers[next++];
    const floats = typeof init === 'number' ? init : init.length;
    const b = device.createBuffer({
      size: Math.max(16, Math.ceil(floats / 4) * 16),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    if (typeof init !== 'number') device.queue.writeBuffer(b, 0, init as Float32Array<ArrayBuffer>);
    made.push(b);
    storage.push(b);
    return { binding, resource: { buffer: b } };
  });
  const pipeline = engine.pipelines.get(kernel, options.constants ?? {}, options.entry);
  const bindGroup = device.createBindGroup({ layout: engine.pipelines.layout(kernel), entries });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  if ((kinds as readonly string[]).includes('step')) pass.setBindGroup(0, bindGroup, [0]);
  else pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(options.workgroups[0], options.workgroups[1] ?? 1);
  pass.end();
  const reads = storage.map((b) => {
    const r = device.createBuffer({ size: b.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(b, 0, r, 0, b.size);
    made.push(r);
    return r;
  });
  device.queue.submit([encoder.finish()]);
  const out = await Promise.all(
    reads.map(async (r) => {
      await r.mapAsync(GPUMapMode.READ);
      const data = new Float32Array(r.getMappedRange().slice(0));
      r.unmap();
      return data;
    }),
  );
  for (const b of made) b.destroy();
  await engine.finish();
  return out;
}

/** Row-major [rows, cols] copied into [rows, ld] with zero pads. */
export function pad(data: ArrayLike<number>, rows: number, cols: number, ld: number): Float32Array {
  const out = new Float32Array(rows * ld);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * ld + c] = data[r * cols + c];
  return out;
}

/** [rows, ld] back to [rows, cols]. */
export function unpad(data: ArrayLike<number>, rows: number, cols: number, ld: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = data[r * ld + c];
  return out;
}

export const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;
