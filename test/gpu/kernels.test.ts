// The kernel ABI (src/gpu/kernels.ts) against the shaders themselves: each kernel's uniform words must match its
// WGSL `struct Dims` field by field (count, and f32 exactly where the struct has f32), and every override
// constant a kernel is given must be declared in its shader files. Read from shaders/*.wgsl, so a field added to
// a struct without its writer (or the reverse) fails here rather than as garbage on the GPU.
import { describe, expect, it } from 'vitest';
import {
  dims,
  KERNELS,
  type KernelName,
  MATMUL_VARIANTS,
  SLOT_BYTES,
  STEP_BYTES,
  type UniformWord,
} from '../../src/gpu/kernels.js';
import { shaderSources } from '../../src/gpu/shaders.gen.js';

/** The fields of `struct name` in a kernel's concatenated sources, as [field, type]. */
function structFields(kernel: KernelName, name: string): [string, string][] {
  const source = KERNELS[kernel].modules.map((m) => shaderSources[m]).join('\n');
  const body = new RegExp(`struct ${name} \\{([^}]*)\\}`).exec(source)?.[1];
  if (!body) throw new Error(`${kernel}: no struct ${name}`);
  return [...body.matchAll(/(\w+)\s*:\s*(\w+)/g)].map((m) => [m[1], m[2]]);
}

const overrides = (kernel: KernelName) =>
  new Set(
    [
      ...KERNELS[kernel].modules
        .map((m) => shaderSources[m])
        .join('\n')
        .matchAll(/^override (\w+)/gm),
    ].map((m) => m[1]),
  );

// One sample call of each writer, with distinct values, so positions can be told apart.
const samples: Record<keyof typeof dims, UniformWord[]> = {
  matmul: dims.matmul({ M: 1, N: 2, K: 3, lda: 4, ldb: 5, ldc: 6, arows: 7, brows: 8 }),
  activation: dims.activation({ M: 1, N: 2, ld: 3 }),
  softmax: dims.softmax({ M: 1, N: 2, ld: 3 }),
  softmax_backward: dims.softmax_backward({ M: 1, N: 2, ld: 3 }),
  loss: dims.loss({ M: 1, N: 2, ld: 3, scale: 0.5 }),
  loss_reduce: dims.loss_reduce({ M: 1, scale: 0.5, accumulate: true, hitScale: 0.25 }),
  bias_grad: dims.bias_grad({ M: 1, ld: 2, accumulate: false }),
  gather: dims.gather({ rows: 1, inp: 2, ldx: 3, out: 4, ldy: 5, scale: 0.5, shift: 6 }),
  sgd: dims.sgd({ count: 1, momentum: 0.5, weightDecay: 0.25, maxNorm: 2 }),
  adam: dims.adam({ count: 1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, maxNorm: 3 }),
  grad_norm: dims.grad_norm({ count: 1 }),
  finite_check: dims.finite_check({ count: 1 }),
  subgroup_probe: dims.subgroup_probe({ n: 1 }),
};

describe('uniform words follow each struct Dims', () => {
  // matmul_wide and matmul_tiled share matmul's writer (and matmul_io.wgsl's struct).
  const kernels = Object.keys(KERNELS) as KernelName[];
  it.each(kernels)('%s', (kernel) => {
    const writer = (kernel.startsWith('matmul') ? 'matmul' : kernel) as keyof typeof dims;
    const fields = structFields(kernel, 'Dims');
    const words = samples[writer];
    expect(words.length).toBe(fields.length);
    fields.forEach(([name, type], i) => {
      const isF32 = typeof words[i] === 'object';
      expect(isF32, `${kernel}: field ${name} is ${type}, word ${i} is ${isF32 ? 'f32' : 'u32'}`).toBe(type === 'f32');
    });
    // Every word fits the 32 bytes bound as the uniform of one dispatch.
    expect(fields.length * 4).toBeLessThanOrEqual(32);
  });

  it('struct Step is lr f32, t f32, slot u32, start u32, within STEP_BYTES', () => {
    expect(structFields('sgd', 'Step')).toEqual([
      ['lr', 'f32'],
      ['t', 'f32'],
      ['slot', 'u32'],
      ['start', 'u32'],
    ]);
    expect(STEP_BYTES).toBe(16);
    expect(SLOT_BYTES % STEP_BYTES).toBe(0);
  });
});

describe('override constants', () => {
  it('matmul kernels declare FORM, EPILOGUE, ACT and BIAS_GRAD (matmul_io.wgsl), used where biasGrad says', () => {
    for (const k of ['matmul', 'matmul_wide', 'matmul_subgroup', 'matmul_tiled'] as const) {
      expect([...overrides(k)].sort()).toEqual(['ACT', 'BIAS_GRAD', 'EPILOGUE', 'FORM']);
    }
    for (const v of Object.values(MATMUL_VARIANTS)) {
      const source = KERNELS[v.kernel].modules.map((m) => shaderSources[m]).join('\n');
      const uses = source.split('\n').filter((line) => /\bBIAS_GRAD\b/.test(line) && !/^\s*(\/\/|override)/.test(line));
      expect(uses.length > 0, `${v.name} reads BIAS_GRAD`).toBe(v.biasGrad);
    }
  });
  it('the other kernels declare what the library sets', () => {
    expect(overrides('loss')).toEqual(new Set(['ACT', 'LOSS']));
    expect(overrides('gather')).toEqual(new Set(['BYTES', 'Y_INDICES']));
    expect(overrides('sgd')).toEqual(new Set(['MOMENTUM', 'NESTEROV', 'CLIP']));
    expect(overrides('adam')).toEqual(new Set(['DECOUPLED', 'CLIP']));
    expect(overrides('activation')).toEqual(new Set(['ACT']));
  });
});
