// shaders/finite_check.wgsl against a reference written from the definition: the number of values v of the
// buffer with !Number.isFinite(v), and the smallest index of one. Exact: the kernel only counts and compares.
// The kernel is bound and dispatched as the library does (src/data/gpu-dataset.ts findNonFinite): the result as
// an 8-byte range of a buffer with one 256-byte slot per array, initialised to (0, 0xffffffff), and a 2-D grid
// of 64-wide workgroups.
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.js';
import { useEngine } from '../gpu.js';

const engine = await useEngine();

const GROUP = 64; // @workgroup_size(64)
const SLOT = 256; // bytes per result slot, the largest storage offset alignment WebGPU allows
const NONE = 0xffffffff; // result[1] while no non-finite value has been seen
const LIMIT = engine.limits.maxComputeWorkgroupsPerDimension;
// Just past what a 1-D grid of 64-wide groups can cover (65535·64 + 100 with the default limit): 16 MiB.
const BIG = LIMIT * GROUP + 100;

/** The reference: how many values are NaN or ±Inf, and the first index of one (null when none). */
function nonFinite(values: ArrayLike<number>): { count: number; first: number | null } {
  let count = 0;
  let first: number | null = null;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      count++;
      first ??= i;
    }
  }
  return { count, first };
}

/**
 * The dispatch grid of src/gpu/dispatch.ts grid(runtime, count, 64), replicated (that module is being moved):
 * ceil(count/64) groups (at least one), at most `limit` along x, the rest in further rows along y.
 */
function grid(count: number, limit = LIMIT): [number, number] {
  const groups = Math.max(1, Math.ceil(count / GROUP));
  const x = Math.min(groups, limit);
  return [x, Math.ceil(groups / x)];
}

interface Job {
  data: Float32Array;
  /** Byte offset of the 8-byte result range in the result buffer; a multiple of SLOT. */
  offset: number;
  /** The (count, first) the slot starts from; the library's (0, NONE) by default. */
  init?: [number, number];
  workgroups?: [number, number];
}

/**
 * Runs one finite_check dispatch per job in one pass, all writing into one result buffer (job k at its own
 * offset), and returns each job's (count, first) plus the whole result buffer, to check nothing else changed.
 */
async function run(jobs: Job[]): Promise<{ results: [number, number][]; words: Uint32Array }> {
  const device = engine.device;
  const made: GPUBuffer[] = [];
  const buffer = (size: number, usage: GPUBufferUsageFlags) => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(size / 16) * 16), usage });
    made.push(b);
    return b;
  };
  const S = GPUBufferUsage;
  const resultBytes = Math.max(...jobs.map((j) => j.offset)) + SLOT;
  const result = buffer(resultBytes, S.STORAGE | S.COPY_SRC | S.COPY_DST);
  // Everything outside the bound ranges holds a pattern that must survive the pass.
  const before = new Uint32Array(resultBytes / 4).fill(0xa5a5a5a5);
  for (const { offset, init = [0, NONE] } of jobs) before.set(init, offset / 4);
  device.queue.writeBuffer(result, 0, before);

  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(engine.pipelines.get('finite_check'));
  for (const job of jobs) {
    const uniform = buffer(SLOT, S.UNIFORM | S.COPY_DST);
    device.queue.writeBuffer(uniform, 0, Uint32Array.of(job.data.length));
    const data = buffer(job.data.byteLength, S.STORAGE | S.COPY_DST);
    device.queue.writeBuffer(data, 0, job.data as Float32Array<ArrayBuffer>);
    const bindGroup = device.createBindGroup({
      layout: engine.pipelines.layout('finite_check'),
      entries: [
        { binding: 0, resource: { buffer: uniform } },
        { binding: 1, resource: { buffer: data } },
        { binding: 2, resource: { buffer: result, offset: job.offset, size: 8 } },
      ],
    });
    pass.setBindGroup(0, bindGroup);
    const [x, y] = job.workgroups ?? grid(job.data.length);
    pass.dispatchWorkgroups(x, y);
  }
  pass.end();
  const read = buffer(result.size, S.MAP_READ | S.COPY_DST);
  encoder.copyBufferToBuffer(result, 0, read, 0, result.size);
  device.queue.submit([encoder.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const words = new Uint32Array(read.getMappedRange().slice(0, resultBytes));
  read.unmap();
  for (const b of made) b.destroy();
  await engine.finish();

  const results = jobs.map(({ offset }) => [words[offset / 4], words[offset / 4 + 1]] as [number, number]);
  const untouched = Uint32Array.from(words);
  for (const { offset } of jobs) untouched.set([before[offset / 4], before[offset / 4 + 1]], offset / 4);
  expect(untouched, 'words outside the bound result ranges').toEqual(before);
  return { results, words };
}

/** The kernel's (count, first) on `data`, bound at `offset`, checked against the reference. */
async function check(data: Float32Array, offset = 0, workgroups?: [number, number]): Promise<void> {
  const { results } = await run([{ data, offset, workgroups }]);
  const ref = nonFinite(data);
  expect({ count: results[0][0], first: results[0][1] }).toEqual({ count: ref.count, first: ref.first ?? NONE });
}

// Finite values the kernel must not count, whatever their bit patterns: the largest finite floats (exponent
// 0xfe, one below the all-ones of NaN/Inf), the smallest normal and subnormal, and both zeros.
const EXTREMES = [
  3.4028234663852886e38, -3.4028234663852886e38, 1.1754943508222875e-38, -1.1754943508222875e-38, 1.4e-45, -1.4e-45, 0,
  -0, 1, -2.5,
];

/** n finite f32 values: the extremes first (as many as fit), then seeded uniforms scaled up to 1e30. */
function finite(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  const random = new Random(seed);
  for (let i = 0; i < n; i++) {
    out[i] =
      i < EXTREMES.length ? EXTREMES[i] : (2 * random.uniform() - 1) * 10 ** Math.floor(60 * random.uniform() - 30);
  }
  return out;
}

const BAD = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];

/** Where the non-finite values of a case go, in an array of n. */
const PLACES: [string, (n: number) => number[]][] = [
  ['none', () => []],
  ['first', () => [0]],
  ['last', (n) => [n - 1]],
  ['middle', (n) => [n >> 1]],
  ['several', (n) => [...new Set([1, Math.floor(n / 3), n >> 1, n - 2, n - 1])]],
];

describe('finite_check reference', () => {
  it('counts NaN and ±Inf only, and finds the first', () => {
    expect(nonFinite([])).toEqual({ count: 0, first: null });
    expect(nonFinite(EXTREMES)).toEqual({ count: 0, first: null });
    expect(nonFinite([1, Number.NaN, 2, -Infinity, Infinity])).toEqual({ count: 3, first: 1 });
    expect(nonFinite(new Float32Array(new Uint32Array([0, 0x7fc00001, 0xffffffff]).buffer))).toEqual({
      count: 2,
      first: 1,
    });
  });

  it('grid covers every value with whole 64-wide groups, 2-D past the limit', () => {
    expect(grid(1, 65535)).toEqual([1, 1]);
    expect(grid(64, 65535)).toEqual([1, 1]);
    expect(grid(65, 65535)).toEqual([2, 1]);
    expect(grid(65535 * 64, 65535)).toEqual([65535, 1]);
    expect(grid(65535 * 64 + 100, 65535)).toEqual([65535, 2]);
    expect(grid(1000, 7)).toEqual([7, 3]);
  });
});

describe.each([1, 3, 63, 64, 65, 1000])('finite_check on %i values', (n) => {
  it.each(PLACES)('non-finite values: %s', async (_, places) => {
    const at = places(n).filter((i) => i >= 0 && i < n);
    // Three turns, so each place gets NaN, +Inf and −Inf in turn; the second binds the result at a later slot.
    for (let turn = 0; turn < BAD.length; turn++) {
      const data = finite(n, 10 * n + turn);
      at.forEach((i, j) => {
        data[i] = BAD[(turn + j) % BAD.length];
      });
      expect(nonFinite(data).count).toBe(new Set(at).size);
      await check(data, turn === 1 ? SLOT : 0);
    }
  });
});

describe('finite_check', () => {
  it('counts NaNs of any payload and sign, read as bits', async () => {
    const data = finite(200, 3);
    const bits = new Uint32Array(data.buffer);
    // quiet NaN with payload 1, all ones (negative NaN), signalling NaN, -Inf and +Inf as raw bits.
    const patterns: [number, number][] = [
      [5, 0x7fc00001],
      [77, 0xffffffff],
      [130, 0x7f800001],
      [131, 0xff800000],
      [199, 0x7f800000],
    ];
    for (const [i, word] of patterns) bits[i] = word;
    // The finite neighbours of those patterns: largest finite, and exponent 0xfe with every mantissa bit.
    bits[6] = 0x7f7fffff;
    bits[7] = 0xff7fffff;
    bits[8] = 0x7f000001;
    bits[9] = 0x80000001;
    expect(nonFinite(data)).toEqual({ count: 5, first: 5 });
    await check(data, SLOT);
  });

  it('adds to the count and lowers the index already in its slot, and leaves them when all is finite', async () => {
    const dirty = finite(100, 4);
    dirty[30] = Number.NaN;
    dirty[90] = Number.POSITIVE_INFINITY;
    const { results } = await run([
      { data: dirty, offset: 0, init: [2, 50] },
      { data: dirty, offset: SLOT, init: [2, 10] },
      { data: finite(100, 5), offset: 2 * SLOT, init: [7, 3] },
    ]);
    expect(results).toEqual([
      [4, 30],
      [4, 10],
      [7, 3],
    ]);
  });

  it('keeps arrays apart in one result buffer, one 256-byte slot each, as the library binds x and y', async () => {
    const x = finite(1000, 6);
    x[999] = Number.NEGATIVE_INFINITY;
    x[400] = Number.NaN;
    const y = finite(65, 7);
    const z = finite(3, 8);
    z[2] = Number.NaN;
    const { results } = await run([
      { data: x, offset: 0 },
      { data: y, offset: SLOT },
      { data: z, offset: 2 * SLOT },
    ]);
    expect(results).toEqual([
      [2, 400],
      [0, NONE],
      [1, 2],
    ]);
  });

  it('indexes rows of a 2-D grid as gid.x + gid.y·(groups along x)·64', async () => {
    // A narrow grid makes small arrays span several rows, including a partly idle last row.
    const data = finite(1000, 9);
    for (const i of [3 * 64 + 5, 7 * 64, 999]) data[i] = Number.NaN;
    await check(data, 0, grid(1000, 3)); // [3, 6]: 1152 invocations
    await check(data, SLOT, grid(1000, 15)); // [15, 2]
    const late = finite(1000, 10);
    late[998] = Number.POSITIVE_INFINITY;
    await check(late, 0, grid(1000, 4));
  });

  it(`covers ${BIG} values, which need a 2-D grid`, async () => {
    expect(BIG * 4, 'the large case fits one storage binding').toBeLessThanOrEqual(
      engine.limits.maxStorageBufferBindingSize,
    );
    expect(grid(BIG)).toEqual([LIMIT, 2]);
    const data = finite(BIG, 11);
    const { results: clean } = await run([{ data, offset: SLOT }]);
    expect(clean).toEqual([[0, NONE]]);
    // Only the second row of groups reaches the last 100 values; the first row ends at LIMIT·64 − 1.
    data[BIG - 1] = Number.NaN;
    data[LIMIT * GROUP] = Number.NEGATIVE_INFINITY;
    await check(data, SLOT);
    data[LIMIT * GROUP - 1] = Number.POSITIVE_INFINITY;
    data[1234567] = Number.NaN;
    await check(data, 0);
    data[0] = Number.NaN;
    const { results } = await run([{ data, offset: 0 }]);
    expect(results).toEqual([[5, 0]]);
  });
});
