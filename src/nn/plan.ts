import type { Loss } from '../core/types.js';
import type { GpuDataset } from '../data/gpu-dataset.js';
import { type Dispatch, DispatchBuilder, grid } from '../gpu/dispatch.js';
import { ACT, dims, EPILOGUE, FORM, LOSS, matmulGroups } from '../gpu/kernels.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Activations } from './activations.js';
import { type Layer, roundUp } from './layout.js';

/**
 * Plans: the buffers and dispatch lists of a network's passes, made once per batch shape and replayed every
 * step. This is where the math of a training step meets the kernels: which product, which epilogue, which buffer.
 */

/** What a plan binds of its network. */
export interface PlanTarget {
  runtime: Runtime;
  layers: Layer[];
  loss: Loss;
  params: GPUBuffer;
  grads: GPUBuffer;
  steps: GPUBuffer;
  losses: GPUBuffer;
}

/** One pass over `rows` rows of a batch of `total` (a micro-batch divides by the whole batch). */
export interface PassShape {
  rows: number;
  total: number;
  /** Adds gradients and loss to the previous pass's (micro-batches after the first, evaluation batches). */
  accumulate: boolean;
  /** The GPU-resident dataset the rows are gathered from, or null for rows written to x and y by the host. */
  source: GpuDataset | null;
}

/** Everything one pass dispatches, bind groups and uniforms made once. */
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

/** What every pass builder shares: the network, its activations, the pass's shape and the builder. */
interface Ctx {
  net: PlanTarget;
  act: Activations;
  shape: PassShape;
  builder: DispatchBuilder;
  rowGrid: [number, number];
}

const range = (buffer: GPUBuffer, offsetFloats: number, floats: number): GPUBufferBinding => ({
  buffer,
  offset: offsetFloats * 4,
  size: roundUp(floats, 4) * 4,
});
const weight = (c: Ctx, l: Layer) => range(c.net.params, l.wOffset, l.ldOut * l.ldIn);
const bias = (c: Ctx, l: Layer) => range(c.net.params, l.bOffset, l.ldOut);
const input = (c: Ctx, j: number) => (j === 0 ? c.act.x : c.act.a[j - 1]);
const tiles = (c: Ctx, rows: number, cols: number) => matmulGroups(c.net.runtime.matmul, rows, cols);

/** The dispatches of one pass: gather, forward, loss, backward and predictions, with one uniform buffer. */
export function buildPlan(net: PlanTarget, act: Activations, shape: PassShape): Plan {
  const builder = new DispatchBuilder(net.runtime);
  const c: Ctx = { net, act, shape, builder, rowGrid: grid(net.runtime, shape.rows, 64) };
  const plan: Omit<Plan, 'uniforms'> = { forward: [], loss: [], lossIndices: [], backward: [], output: [] };
  if (shape.source) gatherPass(c, shape.source, plan.forward);
  forwardPass(c, plan.forward);
  const mse = net.loss === 'mse';
  lossPass(
    c,
    plan.loss,
    mse ? LOSS.MSE : net.loss === 'binary_cross_entropy' ? LOSS.BINARY_CROSS_ENTROPY : LOSS.CROSS_ENTROPY,
  );
  // Class indices read y as u32; which list runs is decided per call by the targets' type.
  if (net.loss === 'cross_entropy') lossPass(c, plan.lossIndices, LOSS.CROSS_ENTROPY_INDICES);
  backwardPass(c, plan.backward);
  outputPass(c, plan.output);
  return { ...plan, uniforms: builder.build('plan-uniforms') };
}

/** The batch's rows of a GPU-resident dataset into x and y. */
function gatherPass(c: Ctx, source: GpuDataset, list: Dispatch[]): void {
  const { layers, runtime } = c.net;
  const first = layers[0];
  const last = layers[layers.length - 1];
  const ldy = source.yIndices ? 1 : last.ldOut;
  const shift = gatherShift(Math.max(first.ldIn, ldy) / 4);
  c.builder.add(
    list,
    'gather',
    { BYTES: Number(source.bytes), Y_INDICES: Number(source.yIndices) },
    dims.gather({
      rows: c.shape.rows,
      inp: first.inp,
      ldx: first.ldIn,
      out: source.yIndices ? 1 : last.out,
      ldy,
      scale: source.scale,
      shift,
    }),
    [c.net.steps, source.order, source.x, source.y, c.act.x, c.act.y],
    grid(runtime, c.shape.rows * 2 ** shift, 64),
  );
}

// Invocations a row gets at most. On SwiftShader each invocation costs far more than a loop step: one per vec4
// took about six times as long as eight per row for a 1024 x 784 batch, and four or eight per row were the
// fastest. A GPU still gets rows x 8 invocations, plenty for a copy this size.
const GATHER_LANES = 8;

/** log2 of the invocations the gather gives a row of `vec4s` vec4s: one each, at most GATHER_LANES. */
function gatherShift(vec4s: number): number {
  return Math.ceil(Math.log2(Math.min(Math.max(vec4s, 1), GATHER_LANES)));
}

/** Z_j = F_{j-1} W_jᵀ + b_j with the activation fused, F_j = σ_j(Z_j); softmax as its own row kernel. */
function forwardPass(c: Ctx, list: Dispatch[]): void {
  const M = c.shape.rows;
  const kernel = c.net.runtime.matmul.kernel;
  c.net.layers.forEach((l, j) => {
    const fused = l.act === 'softmax' ? ACT.identity : ACT[l.act];
    c.builder.add(
      list,
      kernel,
      { FORM: FORM.NT, EPILOGUE: EPILOGUE.BIAS_ACT, ACT: fused },
      dims.matmul({
        M,
        N: l.out,
        K: l.inp,
        lda: l.ldIn / 4,
        ldb: l.ldIn / 4,
        ldc: l.ldOut / 4,
        arows: M,
        brows: l.out,
      }),
      [
        input(c, j),
        weight(c, l),
        c.act.z[j],
        bias(c, l),
        fused === ACT.identity ? c.net.runtime.dummyWrite : c.act.a[j],
      ],
      tiles(c, M, l.out),
    );
    if (l.act === 'softmax') {
      c.builder.add(
        list,
        'softmax',
        {},
        dims.softmax({ M, N: l.out, ld: l.ldOut }),
        [c.act.z[j], c.act.a[j]],
        c.rowGrid,
      );
    }
  });
}

/** δ_L = ∂ℓ/∂Z_L with the batch mean folded in, then (loss, accuracy) summed into the step's slot. */
function lossPass(c: Ctx, list: Dispatch[], code: number): void {
  const { layers, loss, runtime } = c.net;
  const { rows: M, total, accumulate } = c.shape;
  const L = layers.length;
  const last = layers[L - 1];
  const mse = loss === 'mse';
  const scale = loss === 'cross_entropy' ? 1 / total : 1 / (total * last.out);
  const softmaxMse = mse && last.act === 'softmax';
  c.builder.add(
    list,
    'loss',
    { LOSS: code, ACT: mse ? ACT[last.act] : ACT.identity },
    dims.loss({ M, N: last.out, ld: last.ldOut, scale }),
    [
      mse ? c.act.a[L - 1] : c.act.z[L - 1],
      c.act.y,
      mse ? c.act.z[L - 1] : runtime.dummyRead,
      softmaxMse ? c.act.da[L - 1]! : c.act.dz[L - 1],
      c.act.rowLoss,
    ],
    c.rowGrid,
  );
  if (softmaxMse) softmaxBackward(c, list, L - 1);
  c.builder.add(
    list,
    'loss_reduce',
    {},
    dims.loss_reduce({ M, scale, accumulate, hitScale: 1 / total }),
    [c.net.steps, c.act.rowLoss, c.net.losses],
    [1, 1],
  );
}

/** ∇W_j = δ_jᵀ F_{j-1}, ∇b_j = Σ_rows δ_j, δ_{j-1} = σ'_{j-1}(Z_{j-1}) ⊙ (δ_j W_j) fused. */
function backwardPass(c: Ctx, list: Dispatch[]): void {
  const { layers, runtime, grads } = c.net;
  const { rows: M, accumulate } = c.shape;
  const { kernel, biasGrad } = runtime.matmul;
  for (let j = layers.length - 1; j >= 0; j--) {
    const l = layers[j];
    const db = range(grads, l.bOffset, l.ldOut);
    // The bias gradient comes with the weight gradient where the kernel sums A's columns on the way.
    c.builder.add(
      list,
      kernel,
      {
        FORM: FORM.TN,
        EPILOGUE: accumulate ? EPILOGUE.ACCUMULATE : EPILOGUE.STORE,
        ACT: ACT.identity,
        ...(biasGrad ? { BIAS_GRAD: 1 } : {}),
      },
      dims.matmul({ M: l.out, N: l.inp, K: M, lda: l.ldOut / 4, ldb: l.ldIn / 4, ldc: l.ldIn / 4, arows: M, brows: M }),
      [
        c.act.dz[j],
        input(c, j),
        range(grads, l.wOffset, l.ldOut * l.ldIn),
        runtime.dummyRead,
        biasGrad ? db : runtime.dummyWrite,
      ],
      tiles(c, l.out, l.inp),
    );
    if (!biasGrad) {
      c.builder.add(
        list,
        'bias_grad',
        {},
        dims.bias_grad({ M, ld: l.ldOut / 4, accumulate }),
        [c.act.dz[j], db],
        [l.ldOut / 4, 1],
      );
    }
    if (j > 0) inputGradient(c, list, j);
  }
}

/** δ_{j-1} from δ_j: the NN product with σ'_{j-1} in its epilogue, or softmax's full Jacobian after it. */
function inputGradient(c: Ctx, list: Dispatch[], j: number): void {
  const { layers, runtime } = c.net;
  const M = c.shape.rows;
  const l = layers[j];
  const softmax = layers[j - 1].act === 'softmax';
  const act = softmax ? ACT.identity : ACT[layers[j - 1].act];
  c.builder.add(
    list,
    runtime.matmul.kernel,
    { FORM: FORM.NN, EPILOGUE: act === ACT.identity ? EPILOGUE.STORE : EPILOGUE.ACT_BACKWARD, ACT: act },
    dims.matmul({
      M,
      N: l.inp,
      K: l.out,
      lda: l.ldOut / 4,
      ldb: l.ldIn / 4,
      ldc: l.ldIn / 4,
      arows: M,
      brows: l.ldOut,
    }),
    [
      c.act.dz[j],
      weight(c, l),
      softmax ? c.act.da[j - 1]! : c.act.dz[j - 1],
      act === ACT.identity ? runtime.dummyRead : c.act.z[j - 1],
      runtime.dummyWrite,
    ],
    tiles(c, M, l.inp),
  );
  if (softmax) softmaxBackward(c, list, j - 1);
}

/** dz_j = softmax's Jacobian (not diagonal) applied to da_j, row by row. */
function softmaxBackward(c: Ctx, list: Dispatch[], j: number): void {
  const l = c.net.layers[j];
  c.builder.add(
    list,
    'softmax_backward',
    {},
    dims.softmax_backward({ M: c.shape.rows, N: l.out, ld: l.ldOut }),
    [c.act.a[j], c.act.da[j]!, c.act.dz[j]],
    c.rowGrid,
  );
}

/** The probabilities the fused losses imply: softmax for cross_entropy, sigmoid for binary_cross_entropy. */
function outputPass(c: Ctx, list: Dispatch[]): void {
  const { layers, loss, runtime } = c.net;
  const M = c.shape.rows;
  const L = layers.length;
  const last = layers[L - 1];
  if (loss === 'cross_entropy') {
    const d = dims.softmax({ M, N: last.out, ld: last.ldOut });
    c.builder.add(list, 'softmax', {}, d, [c.act.z[L - 1], c.act.probs!], c.rowGrid);
  } else if (loss === 'binary_cross_entropy') {
    c.builder.add(
      list,
      'activation',
      { ACT: ACT.sigmoid },
      dims.activation({ M, N: last.out, ld: last.ldOut / 4 }),
      [c.act.z[L - 1], runtime.dummyRead, c.act.probs!],
      grid(runtime, M * (last.ldOut / 4), 64),
      'forward',
    );
  }
}
