import type { Activation } from '../core/types.js';

/**
 * The kernel ABI, in one place: every kernel's shader files and bindings, the named codes of its override
 * constants, and one function per kernel that lays out its uniform words in the order of its WGSL `struct Dims`
 * (the shader headers in shaders/ give shapes and layout). Nothing here knows what a network is.
 */

/** Size of one uniform slot: the minimum uniform and storage offset alignment WebGPU guarantees. */
export const SLOT_BYTES = 256;

/**
 * How a kernel binds its resources, in binding order: `uniform` (its own dimensions), `step` (per-step values
 * through a dynamic offset, so several steps can share one submit), `read` and `write` storage buffers.
 */
export type BindingKind = 'uniform' | 'step' | 'read' | 'write';

interface KernelDef {
  /** shaders/*.wgsl files, concatenated in order (libraries first, a file with `enable` directives before all). */
  modules: string[];
  bindings: BindingKind[];
  /** A device feature the kernel's WGSL needs: without it the kernel is neither compiled nor used. */
  feature?: GPUFeatureName;
}

const MATMUL_BINDINGS: BindingKind[] = ['uniform', 'read', 'read', 'write', 'read', 'write'];

/** Every kernel webgrad runs. One .wgsl file each, in shaders/. */
export const KERNELS = {
  matmul: { modules: ['activations', 'matmul_io', 'matmul'], bindings: MATMUL_BINDINGS },
  matmul_wide: { modules: ['activations', 'matmul_io', 'matmul_wide', 'matmul_wide_main'], bindings: MATMUL_BINDINGS },
  matmul_subgroup: {
    modules: ['matmul_wide_subgroup', 'activations', 'matmul_io', 'matmul_wide'],
    bindings: MATMUL_BINDINGS,
    feature: 'subgroups',
  },
  matmul_tiled: { modules: ['activations', 'matmul_io', 'matmul_tiled'], bindings: MATMUL_BINDINGS },
  activation: { modules: ['activations', 'activation'], bindings: ['uniform', 'read', 'read', 'write'] },
  softmax: { modules: ['softmax'], bindings: ['uniform', 'read', 'write'] },
  softmax_backward: { modules: ['softmax_backward'], bindings: ['uniform', 'read', 'read', 'write'] },
  loss: { modules: ['activations', 'loss'], bindings: ['uniform', 'read', 'read', 'read', 'write', 'write'] },
  loss_reduce: { modules: ['step', 'loss_reduce'], bindings: ['uniform', 'step', 'read', 'write'] },
  bias_grad: { modules: ['bias_grad'], bindings: ['uniform', 'read', 'write'] },
  gather: { modules: ['step', 'gather'], bindings: ['uniform', 'step', 'read', 'read', 'read', 'write', 'write'] },
  sgd: { modules: ['step', 'sgd', 'update_main'], bindings: ['uniform', 'step', 'read', 'write', 'write', 'read'] },
  adam: {
    modules: ['step', 'adam', 'update_main'],
    bindings: ['uniform', 'step', 'read', 'write', 'write', 'write', 'read'],
  },
  grad_norm: { modules: ['grad_norm'], bindings: ['uniform', 'read', 'write'] },
  finite_check: { modules: ['finite_check'], bindings: ['uniform', 'read', 'write'] },
  subgroup_probe: { modules: ['subgroup_probe'], bindings: ['uniform', 'write'], feature: 'subgroups' },
} satisfies Record<string, KernelDef>;

export type KernelName = keyof typeof KERNELS;

/** The device feature a kernel needs, if any. */
export function kernelFeature(kernel: KernelName): GPUFeatureName | undefined {
  const def: KernelDef = KERNELS[kernel];
  return def.feature;
}

/** ACT in activations.wgsl. Softmax (9) is a row kernel of its own; coordinatewise code treats it as identity. */
export const ACT: Record<Activation, number> = {
  identity: 0,
  relu: 1,
  leaky_relu: 2,
  sigmoid: 3,
  tanh: 4,
  gelu: 5,
  softplus: 6,
  elu: 7,
  silu: 8,
  softmax: 9,
};

/** FORM in matmul_io.wgsl: which product C = op(A) · op(B) a matmul computes. */
export const FORM = {
  /** C = A · Bᵀ: forward, Z = X · Wᵀ. */
  NT: 0,
  /** C = A · B: backward to the inputs, dX = δ · W. */
  NN: 1,
  /** C = Aᵀ · B: backward to the weights, dW = δᵀ · X. */
  TN: 2,
} as const;

/** EPILOGUE in matmul_io.wgsl: what happens to each value of C before it is stored. */
export const EPILOGUE = {
  STORE: 0,
  /** C += the product (gradients summed over micro-batches). */
  ACCUMULATE: 1,
  /** + bias (aux), then act_out = act(C) where ACT is not identity. */
  BIAS_ACT: 2,
  /** ⊙ act'(Z_prev) (aux): the backward of a coordinatewise activation, a diagonal Jacobian. */
  ACT_BACKWARD: 3,
} as const;

/** LOSS in loss.wgsl. */
export const LOSS = {
  CROSS_ENTROPY: 0,
  /** Cross-entropy against u32 class indices instead of probability rows. */
  CROSS_ENTROPY_INDICES: 1,
  MSE: 2,
  BINARY_CROSS_ENTROPY: 3,
} as const;

/** A uniform value tagged as f32 (untagged numbers are written as u32). */
export type UniformWord = number | { f32: number };
const f32 = (value: number): UniformWord => ({ f32: value });

/** Row-major operands: M x N is C, K the shared dimension, ld* leading dimensions in vec4s, *rows rows stored. */
export interface MatmulDims {
  M: number;
  N: number;
  K: number;
  lda: number;
  ldb: number;
  ldc: number;
  arows: number;
  brows: number;
}
/** [M, N] row-major with ld vec4s (or floats, per kernel header) per row. */
export interface RowDims {
  M: number;
  N: number;
  ld: number;
}

/** Each kernel's uniform words, in its `struct Dims` order. */
export const dims = {
  matmul: (d: MatmulDims): UniformWord[] => [d.M, d.N, d.K, d.lda, d.ldb, d.ldc, d.arows, d.brows],
  activation: (d: RowDims): UniformWord[] => [d.M, d.N, d.ld],
  softmax: (d: RowDims): UniformWord[] => [d.M, d.N, d.ld],
  softmax_backward: (d: RowDims): UniformWord[] => [d.M, d.N, d.ld],
  loss: (d: RowDims & { scale: number }): UniformWord[] => [d.M, d.N, d.ld, f32(d.scale)],
  loss_reduce: (d: { M: number; scale: number; accumulate: boolean; hitScale: number }): UniformWord[] => [
    d.M,
    f32(d.scale),
    Number(d.accumulate),
    f32(d.hitScale),
  ],
  bias_grad: (d: { M: number; ld: number; accumulate: boolean }): UniformWord[] => [d.M, d.ld, Number(d.accumulate)],
  gather: (d: {
    rows: number;
    inp: number;
    ldx: number;
    out: number;
    ldy: number;
    scale: number;
    shift: number;
  }): UniformWord[] => [d.rows, d.inp, d.ldx, d.out, d.ldy, f32(d.scale), d.shift],
  sgd: (d: { count: number; momentum: number; weightDecay: number; maxNorm: number }): UniformWord[] => [
    d.count,
    f32(d.momentum),
    f32(d.weightDecay),
    f32(d.maxNorm),
  ],
  adam: (d: {
    count: number;
    beta1: number;
    beta2: number;
    eps: number;
    weightDecay: number;
    maxNorm: number;
  }): UniformWord[] => [d.count, f32(d.beta1), f32(d.beta2), f32(d.eps), f32(d.weightDecay), f32(d.maxNorm)],
  grad_norm: (d: { count: number }): UniformWord[] => [d.count],
  finite_check: (d: { count: number }): UniformWord[] => [d.count],
  subgroup_probe: (d: { n: number }): UniformWord[] => [d.n],
};

/** Bytes of `struct Step` in step.wgsl: lr f32, t f32, slot u32, start u32. */
export const STEP_BYTES = 16;

/** Writes one pass's per-step values (struct Step in step.wgsl) into its 256-byte slot. */
export function writeStep(
  words: DataView,
  slot: number,
  step: { lr: number; t: number; lossSlot: number; start: number },
): void {
  const at = slot * SLOT_BYTES;
  words.setFloat32(at, step.lr, true);
  words.setFloat32(at + 4, step.t, true);
  words.setUint32(at + 8, step.lossSlot, true);
  words.setUint32(at + 12, step.start, true);
}

/**
 * The matmul kernels: the same products and epilogues, blocked differently. One workgroup covers `rows` x `cols`
 * of C. `biasGrad`: the TN form can write the bias gradient too (BIAS_GRAD in matmul_io.wgsl). An engine uses one
 * of them, chosen for its adapter by gpu/autotune.ts.
 */
export const MATMUL_VARIANTS = {
  /** shaders/matmul.wgsl: 8x8 invocations of 8 rows x 8 columns each. */
  regular: { name: 'regular', kernel: 'matmul', rows: 64, cols: 64, biasGrad: false },
  /** shaders/matmul_wide.wgsl: 8x8 invocations of 16 rows x 16 columns each, for CPU implementations. */
  wide: { name: 'wide', kernel: 'matmul_wide', rows: 128, cols: 128, biasGrad: true },
  /**
   * shaders/matmul_wide.wgsl with shaders/matmul_wide_subgroup.wgsl: the wide blocking, each value of A loaded once
   * per subgroup of four and shared by subgroupBroadcast; a workgroup is one subgroup, 16 rows x 64 columns.
   * Needs the 'subgroups' feature, with subgroups of four.
   */
  subgroup: { name: 'subgroup', kernel: 'matmul_subgroup', rows: 16, cols: 64, biasGrad: true },
  /** shaders/matmul_tiled.wgsl: 16x16 invocations of 4 rows x 4 columns, K staged in workgroup memory. */
  tiled: { name: 'tiled', kernel: 'matmul_tiled', rows: 64, cols: 64, biasGrad: false },
} as const;

/** A matmul kernel by name: 'regular', 'wide', 'subgroup' or 'tiled' (see MatmulChoice). */
export type MatmulVariantName = keyof typeof MATMUL_VARIANTS;

export type MatmulVariant = (typeof MATMUL_VARIANTS)[MatmulVariantName];

/** Milliseconds for the three training products at 256 x 256 x 256 (best of the rounds), per variant tried. */
export type MatmulTimings = Partial<Record<MatmulVariantName, number>>;

/** Workgroups of a matmul variant that cover C [rows, cols], as [x (columns), y (rows)]. */
export function matmulGroups(variant: MatmulVariant, rows: number, cols: number): [number, number] {
  return [Math.ceil(cols / variant.cols), Math.ceil(rows / variant.rows)];
}
