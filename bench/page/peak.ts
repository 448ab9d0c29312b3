// The adapter's own limits: peak FMA throughput and copy bandwidth, from raw WGSL kernels.
import type { PeakCase } from './cases.js';
import { type BenchOptions, type GpuTimer, median, type Result, round4, sizeOp, timeOp } from './common.js';
import copySource from './copy.wgsl?raw';
import fmaTemplate from './fma.wgsl?raw';

const WORKGROUP_SIZE = 256;
/** Independent vec4 accumulators per invocation: enough to hide FMA latency on GPUs and SIMD CPUs. */
const CHAINS = 8;
/** Rounds of CHAINS FMAs per loop trip. */
const UNROLL = 16;

function fmaSource(): string {
  const chains = [...Array(CHAINS).keys()];
  const decls = chains
    .map((i) => `var a${i} = vec4f(seed + ${i}.0, seed - ${i}.0, seed * ${i + 1}.0, seed + ${i * 0.5});`)
    .join('\n  ');
  const round = chains.map((i) => `a${i} = fma(a${i}, b, c);`).join(' ');
  const body = Array(UNROLL).fill(round).join('\n    ');
  const sum = chains.map((i) => `a${i}`).join(' + ');
  return fmaTemplate.replace('/*DECLS*/', decls).replace('/*BODY*/', body).replace('/*SUM*/', sum);
}

export async function benchPeak(device: GPUDevice, timer: GpuTimer, which: PeakCase, opts: BenchOptions) {
  return which === 'fma' ? benchFma(device, timer, opts) : benchCopy(device, timer, which, opts);
}

async function benchFma(device: GPUDevice, timer: GpuTimer, opts: BenchOptions): Promise<Result> {
  const c = fmaCase(device, timer, opts);
  try {
    await c.prepare();
    const samples: number[] = [];
    for (let r = 0; r < opts.reps; r++) samples.push(await c.rep());
    return c.result(samples);
  } finally {
    c.dispose();
  }
}

/**
 * The FMA peak as a case to time against others (see interleave): the matmul part times it in the same rounds as
 * the matmuls, so that their share of the peak is taken at one speed of the machine.
 */
export function fmaCase(device: GPUDevice, timer: GpuTimer, opts: BenchOptions) {
  const trips = opts.smoke ? 16 : 64;
  const flopsPerInvocation = trips * UNROLL * CHAINS * 4 * 2;
  let groups = 4;
  let iters = 1;
  let run: ((groups: number, dispatches: number) => Promise<number>) | null = null;
  const held: GPUBuffer[] = [];
  return {
    async prepare() {
      const module = device.createShaderModule({ code: fmaSource(), label: 'fma-peak' });
      const pipeline = await device.createComputePipelineAsync({
        layout: 'auto',
        compute: { module, entryPoint: 'main', constants: { WORKGROUP_SIZE } },
      });
      const params = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      const p = new ArrayBuffer(16);
      new Uint32Array(p, 0, 1)[0] = trips;
      new Float32Array(p, 4, 3).set([-12345.678, 0.999, 0.001]);
      device.queue.writeBuffer(params, 0, p);
      const sink = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
      held.push(params, sink);
      const bindGroup = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: params } },
          { binding: 1, resource: { buffer: sink } },
        ],
      });
      const timed = (g: number, dispatches: number) =>
        timer.timePass((pass) => {
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, bindGroup);
          for (let d = 0; d < dispatches; d++) pass.dispatchWorkgroups(g);
        });
      run = timed;
      // Grow the grid until one dispatch lasts about targetMs (or the grid is as large as allowed),
      // so that a big GPU is filled and a software adapter is not kept busy for minutes.
      const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
      await timed(groups, 1); // compile
      if (opts.targetMs > 0) {
        while (groups < maxGroups && (await timed(groups, 1)) < opts.targetMs) groups = Math.min(maxGroups, groups * 2);
      }
      iters = await sizeOp((n) => timed(groups, n), opts);
    },
    rep: async () => (await run!(groups, iters)) / iters,
    result(samples: number[]): Result {
      const ms = median(samples);
      const flops = groups * WORKGROUP_SIZE * flopsPerInvocation;
      return {
        name: 'fma-peak',
        library: 'webgpu',
        size: groups * WORKGROUP_SIZE,
        gflops: round4(flops / (ms * 1e6)),
        msMedian: round4(ms),
        msSamples: samples.map(round4),
        iters,
        timing: timer.method,
        note: `${groups} workgroups x ${WORKGROUP_SIZE} invocations x ${flopsPerInvocation} FLOP`,
      };
    },
    dispose() {
      for (const b of held.splice(0)) b.destroy();
    },
  };
}

async function benchCopy(
  device: GPUDevice,
  timer: GpuTimer,
  which: 'copy-shader' | 'copy-buffer',
  opts: BenchOptions,
): Promise<Result> {
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const bytes = Math.min(opts.smoke ? 1 << 20 : 128 << 20, Math.floor(limit / 16) * 16);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const src = device.createBuffer({ size: bytes, usage, label: 'copy-src' });
  const dst = device.createBuffer({ size: bytes, usage, label: 'copy-dst' });
  // Non-zero contents, in case a GPU compresses or skips zero pages.
  const chunk = new Uint32Array(Math.min(bytes, 1 << 20) / 4).map((_, i) => (i * 2654435761) >>> 0);
  for (let off = 0; off < bytes; off += chunk.byteLength) {
    device.queue.writeBuffer(src, off, chunk, 0, Math.min(chunk.length, (bytes - off) / 4));
  }

  let once: (iters: number) => Promise<number>;
  let timing = timer.method;
  if (which === 'copy-shader') {
    const module = device.createShaderModule({ code: copySource, label: 'copy' });
    const pipeline = await device.createComputePipelineAsync({
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
    });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: src } },
        { binding: 1, resource: { buffer: dst } },
      ],
    });
    const groups = Math.min(Math.ceil(bytes / 16 / 256), device.limits.maxComputeWorkgroupsPerDimension);
    once = (iters) =>
      timer.timePass((pass) => {
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        for (let i = 0; i < iters; i++) pass.dispatchWorkgroups(groups);
      });
  } else {
    // copyBufferToBuffer lies outside compute passes, where timestamps can be written: wall clock,
    // with `iters` copies per submission to amortise the submit/notify latency.
    timing = 'wall';
    once = (iters) => {
      const enc = device.createCommandEncoder();
      for (let i = 0; i < iters; i++) enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
      return timer.submitWall(enc);
    };
  }
  const { samples, iters } = await timeOp(once, opts);
  src.destroy();
  dst.destroy();
  const ms = median(samples);
  return {
    name: which === 'copy-shader' ? 'copy-shader' : 'copyBufferToBuffer',
    library: 'webgpu',
    size: bytes,
    gbps: round4((2 * bytes) / (ms * 1e6)),
    msMedian: round4(ms),
    msSamples: samples.map(round4),
    iters,
    timing,
    note: 'GB/s counts bytes read + bytes written',
  };
}
