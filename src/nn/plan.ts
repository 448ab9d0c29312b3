import type { GpuDataset } from '../data/gpu-dataset.js';
import type { Engine } from '../engine.js';
import { type Dispatch, DispatchBuilder, grid } from '../gpu/dispatch.js';
import type { Activation, Loss } from '../core/types.js';

/**
 * Plans: the buffers and dispatch lists of a model's passes, made once per batch shape and replayed every step.
 * This is where the math of a training step meets the kernels: which product, which epilogue, which buffer.
 */

export const ACT_CODE: Record<Activation, number> = {
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

/**
 * The matmul kernels: the same products and epilogues, blocked differently. One workgroup of either covers
 * `rows` x `cols` of C. An engine uses one of them, chosen for its adapter by src/autotune.ts.
 */
export const MATMUL_VARIANTS = {
  /** shaders/matmul.wgsl: 8x8 invocations of 8 rows x 8 columns each. */
  regular: { name: 'regular', kernel: 'matmul', rows: 64, cols: 64 },
  /** shaders/matmul_wide.wgsl: 8x8 invocations of 16 rows x 16 columns each, for CPU implementations. */
  wide: { name: 'wide', kernel: 'matmul_wide', rows: 128, cols: 128 },
  /** shaders/matmul_tiled.wgsl: 16x16 invocations of 4 rows x 4 columns, K staged in workgroup memory. */
  tiled: { name: 'tiled', kernel: 'matmul_tiled', rows: 64, cols: 64 },
} as const;

export type MatmulVariantName = keyof typeof MATMUL_VARIANTS;
export type MatmulVariant = (typeof MATMUL_VARIANTS)[MatmulVariantName];

/** Workgroups of a matmul variant that cover C [rows, cols], as [x (columns), y (rows)]. */
export function matmulGroups(variant: MatmulVariant, rows: number, cols: number): [number, number] {
  return [Math.ceil(cols / variant.cols), Math.ceil(rows / variant.rows)];
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** One layer's place in the flat parameter buffer. W is stored [ldOut rows, ldIn], bias [ldOut]; pads are 0. */
export interface Layer {
  inp: number;
  out: number;
  ldIn: number;
  ldOut: number;
  act: Activation;
  wOffset: number;
  bOffset: number;
}

/** Activation buffers for up to `capacity` rows. */
export interface Batch {
  capacity: number;
  x: GPUBuffer;
  y: GPUBuffer;
  z: GPUBuffer[];
  a: GPUBuffer[];
  dz: GPUBuffer[];
  da: (GPUBuffer | null)[];
  rowLoss: GPUBuffer;
  probs: GPUBuffer | null;
  owned: GPUBuffer[];
}

/**
 * Everything one pass over `rows` rows dispatches, bind groups and uniforms made once. `total` is the whole
 * batch's size (a micro-batch divides by it), `accumulate` adds gradients and loss to the previous pass's.
 */
export interface Plan {
  uniforms: GPUBuffer;
  forward: Dispatch[];
  /** Loss for float targets (and mse, binary_cross_entropy). */
  loss: Dispatch[];
  /** Loss for class indices (cross_entropy only). */
  lossIndices: Dispatch[];
  backward: Dispatch[];
  output: Dispatch[];
}

/** What a plan binds from its model. */
export interface PlanModel {
  engine: Engine;
  loss: Loss;
  params: GPUBuffer;
  grads: GPUBuffer;
  steps: GPUBuffer;
  losses: GPUBuffer;
}

/** Activation buffers for up to `capacity` rows of a model with these layers and loss. */
export function allocateBatch(engine: Engine, layers: Layer[], loss: Loss, capacity: number): Batch {
  const S = GPUBufferUsage;
  const owned: GPUBuffer[] = [];
  const make = (label: string, floats: number, usage = S.STORAGE) => {
    const b = engine.createBuffer(label, floats * 4, usage);
    owned.push(b);
    return b;
  };
  const L = layers.length;
  const last = layers[L - 1];
  const z = layers.map((l, j) => make(`z${j}`, capacity * l.ldOut, S.STORAGE | S.COPY_SRC));
  return {
    capacity,
    x: make('x', capacity * layers[0].ldIn, S.STORAGE | S.COPY_DST | S.COPY_SRC),
    y: make('y', capacity * last.ldOut, S.STORAGE | S.COPY_DST | S.COPY_SRC),
    z,
    a: layers.map((l, j) => (l.act === 'identity' ? z[j] : make(`a${j}`, capacity * l.ldOut, S.STORAGE | S.COPY_SRC))),
    dz: layers.map((l, j) => make(`dz${j}`, capacity * l.ldOut)),
    da: layers.map((l, j) =>
      l.act === 'softmax' && (j < L - 1 || loss === 'mse') ? make(`da${j}`, capacity * l.ldOut) : null,
    ),
    rowLoss: make('row-loss', capacity * 2),
    probs: loss === 'mse' ? null : make('probs', capacity * last.ldOut, S.STORAGE | S.COPY_SRC),
    owned,
  };
}

/**
 * The dispatches of one pass over M rows: gather (when the rows come from a GPU-resident dataset), forward,
 * loss, backward and predictions, with their bind groups and one uniform buffer. `total` is the whole batch (a
 * micro-batch divides by it); `accumulate` adds gradients and loss to the previous pass's.
 */
export function buildPlan(
  model: PlanModel,
  layers: Layer[],
  batch: Batch,
  M: number,
  total: number,
  accumulate: boolean,
  source: GpuDataset | null,
): Plan {
  const engine = model.engine;
  const L = layers.length;
  const builder = new DispatchBuilder(engine);
  const plan: Omit<Plan, 'uniforms'> = { forward: [], loss: [], lossIndices: [], backward: [], output: [] };
  const range = (buffer: GPUBuffer, offsetFloats: number, floats: number): GPUBufferBinding => ({
    buffer,
    offset: offsetFloats * 4,
    size: roundUp(floats, 4) * 4,
  });
  const weight = (l: Layer) => range(model.params, l.wOffset, l.ldOut * l.ldIn);
  const bias = (l: Layer) => range(model.params, l.bOffset, l.ldOut);
  const input = (j: number) => (j === 0 ? batch.x : batch.a[j - 1]);
  const matmul = engine.matmul;
  const tiles = (rows: number, cols: number) => matmulGroups(matmul, rows, cols);
  const rowGrid = grid(engine, M, 64);
  const { dummyRead, dummyWrite } = engine;
  const first = layers[0];
  const last = layers[L - 1];

  // Gather: the batch's rows of a GPU-resident dataset into x and y.
  if (source) {
    const yWidth = source.yIndices ? 1 : last.out;
    builder.add(
      plan.forward,
      'gather',
      { BYTES: Number(source.bytes), Y_INDICES: Number(source.yIndices) },
      [M, first.inp, first.ldIn, yWidth, source.yIndices ? 1 : last.ldOut, { f32: source.scale }],
      [model.steps, source.order, source.x, source.y, batch.x, batch.y],
      grid(engine, (M * Math.max(first.ldIn, last.ldOut)) / 4, 64),
    );
  }

  // Forward: Z_j = F_{j-1} W_jᵀ + b_j with the activation fused, F_j = σ_j(Z_j); softmax as its own row kernel.
  layers.forEach((l, j) => {
    const fused = l.act === 'softmax' ? 0 : ACT_CODE[l.act];
    builder.add(
      plan.forward,
      matmul.kernel,
      { FORM: 0, EPILOGUE: 2, ACT: fused },
      [M, l.out, l.inp, l.ldIn / 4, l.ldIn / 4, l.ldOut / 4, M, l.out],
      [input(j), weight(l), batch.z[j], bias(l), fused === 0 ? dummyWrite : batch.a[j]],
      tiles(M, l.out),
    );
    if (l.act === 'softmax') {
      builder.add(plan.forward, 'softmax', {}, [M, l.out, l.ldOut], [batch.z[j], batch.a[j]], rowGrid);
    }
  });

  // Loss: δ_L = ∂ℓ/∂Z_L with the batch mean folded in, then (loss, accuracy) into the step's slot.
  const mse = model.loss === 'mse';
  const scale = model.loss === 'cross_entropy' ? 1 / total : 1 / (total * last.out);
  const lastSoftmaxMse = mse && last.act === 'softmax';
  const lossPass = (list: Dispatch[], code: number) => {
    builder.add(
      list,
      'loss',
      { LOSS: code, ACT: mse ? ACT_CODE[last.act] : 0 },
      [M, last.out, last.ldOut, { f32: scale }],
      [
        mse ? batch.a[L - 1] : batch.z[L - 1],
        batch.y,
        mse ? batch.z[L - 1] : dummyRead,
        lastSoftmaxMse ? batch.da[L - 1]! : batch.dz[L - 1],
        batch.rowLoss,
      ],
      rowGrid,
    );
    if (lastSoftmaxMse) {
      builder.add(
        list,
        'softmax_backward',
        {},
        [M, last.out, last.ldOut],
        [batch.a[L - 1], batch.da[L - 1]!, batch.dz[L - 1]],
        rowGrid,
      );
    }
    builder.add(
      list,
      'loss_reduce',
      {},
      [M, { f32: scale }, Number(accumulate), { f32: 1 / total }],
      [model.steps, batch.rowLoss, model.losses],
      [1, 1],
    );
  };
  lossPass(plan.loss, mse ? 2 : model.loss === 'binary_cross_entropy' ? 3 : 0);
  // Class indices read y as u32 (LOSS 1); which list runs is decided per call by the targets' type.
  if (model.loss === 'cross_entropy') lossPass(plan.lossIndices, 1);

  // Backward: ∇W_j = δ_jᵀ F_{j-1}, ∇b_j = Σ_rows δ_j, δ_{j-1} = σ'_{j-1}(Z_{j-1}) ⊙ (δ_j W_j) fused.
  for (let j = L - 1; j >= 0; j--) {
    const l = layers[j];
    builder.add(
      plan.backward,
      matmul.kernel,
      { FORM: 2, EPILOGUE: accumulate ? 1 : 0, ACT: 0 },
      [l.out, l.inp, M, l.ldOut / 4, l.ldIn / 4, l.ldIn / 4, M, M],
      [batch.dz[j], input(j), range(model.grads, l.wOffset, l.ldOut * l.ldIn), dummyRead, dummyWrite],
      tiles(l.out, l.inp),
    );
    builder.add(
      plan.backward,
      'bias_grad',
      {},
      [M, l.ldOut / 4, Number(accumulate)],
      [batch.dz[j], range(model.grads, l.bOffset, l.ldOut)],
      [l.ldOut / 4, 1],
    );
    if (j === 0) continue;
    const prev = layers[j - 1];
    const softmax = prev.act === 'softmax';
    const act = softmax ? 0 : ACT_CODE[prev.act];
    builder.add(
      plan.backward,
      matmul.kernel,
      { FORM: 1, EPILOGUE: act === 0 ? 0 : 3, ACT: act },
      [M, l.inp, l.out, l.ldOut / 4, l.ldIn / 4, l.ldIn / 4, M, l.ldOut],
      [
        batch.dz[j],
        weight(l),
        softmax ? batch.da[j - 1]! : batch.dz[j - 1],
        act === 0 ? dummyRead : batch.z[j - 1],
        dummyWrite,
      ],
      tiles(M, l.inp),
    );
    if (softmax) {
      builder.add(
        plan.backward,
        'softmax_backward',
        {},
        [M, prev.out, prev.ldOut],
        [batch.a[j - 1], batch.da[j - 1]!, batch.dz[j - 1]],
        rowGrid,
      );
    }
  }

  // Predictions: the probabilities the fused losses imply.
  if (model.loss === 'cross_entropy') {
    builder.add(plan.output, 'softmax', {}, [M, last.out, last.ldOut], [batch.z[L - 1], batch.probs!], rowGrid);
  } else if (model.loss === 'binary_cross_entropy') {
    builder.add(
      plan.output,
      'activation',
      { ACT: ACT_CODE.sigmoid },
      [M, last.out, last.ldOut / 4],
      [batch.z[L - 1], dummyRead, batch.probs!],
      grid(engine, M * (last.ldOut / 4), 64),
      'forward',
    );
  }
  return { ...plan, uniforms: builder.build('plan-uniforms') };
}
