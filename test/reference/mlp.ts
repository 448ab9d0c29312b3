import type { Activation, Loss } from '../../src/core/types.js';
import { activationBackward, activationForward, sigmoid, softmaxRows } from './activations.js';
import { lossGrad, lossValue, type RefTargets } from './losses.js';

export interface RefSpec {
  sizes: number[];
  activations: Activation[];
  loss: Loss;
}

/** weight [out, in] row-major (as torch.nn.Linear), bias [out]. */
export interface RefLayer {
  weight: Float64Array;
  bias: Float64Array;
}

export function toRefLayers(params: { weight: ArrayLike<number>; bias: ArrayLike<number> }[]): RefLayer[] {
  return params.map((p) => ({ weight: Float64Array.from(p.weight), bias: Float64Array.from(p.bias) }));
}

function checkSpec(spec: RefSpec, params: RefLayer[]): void {
  const layers = spec.sizes.length - 1;
  if (spec.activations.length !== layers) throw new Error(`need ${layers} activations, got ${spec.activations.length}`);
  if (params.length !== layers) throw new Error(`need ${layers} layers of parameters, got ${params.length}`);
  for (let j = 0; j < layers; j++) {
    const [nin, nout] = [spec.sizes[j], spec.sizes[j + 1]];
    if (params[j].weight.length !== nout * nin || params[j].bias.length !== nout) {
      throw new Error(`layer ${j}: expected weight ${nout}x${nin} and bias ${nout}`);
    }
  }
  const last = spec.activations[layers - 1];
  if (spec.loss !== 'mse' && last !== 'identity') {
    // cross_entropy and binary_cross_entropy apply their own softmax/sigmoid to Z_L.
    throw new Error(`${spec.loss} needs an identity last activation, got ${last}`);
  }
}

/** z = inp·Wᵀ + b for rows of inp. */
function linear(inp: ArrayLike<number>, layer: RefLayer, rows: number, nin: number, nout: number): Float64Array {
  const out = new Float64Array(rows * nout);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < nout; o++) {
      let sum = layer.bias[o];
      for (let i = 0; i < nin; i++) sum += inp[r * nin + i] * layer.weight[o * nin + i];
      out[r * nout + o] = sum;
    }
  }
  return out;
}

/** Pre-activations zs[j] and activations as[j] of every layer j, each [b, sizes[j + 1]]. */
export function forward(
  spec: RefSpec,
  params: RefLayer[],
  x: ArrayLike<number>,
  b: number,
): { zs: Float64Array[]; as: Float64Array[] } {
  checkSpec(spec, params);
  if (x.length !== b * spec.sizes[0]) throw new Error(`expected ${b * spec.sizes[0]} inputs, got ${x.length}`);
  const zs: Float64Array[] = [];
  const as: Float64Array[] = [];
  let inp: ArrayLike<number> = x;
  for (let j = 0; j < params.length; j++) {
    const z = linear(inp, params[j], b, spec.sizes[j], spec.sizes[j + 1]);
    const a = activationForward(spec.activations[j], z, b, spec.sizes[j + 1]);
    zs.push(z);
    as.push(a);
    inp = a;
  }
  return { zs, as };
}

/** What the loss reads: logits Z_L for the fused losses, the activated output F_L for mse. */
function lossInput(spec: RefSpec, zs: Float64Array[], as: Float64Array[]): Float64Array {
  const last = zs.length - 1;
  return spec.loss === 'mse' ? as[last] : zs[last];
}

/** Mean loss over the batch and its gradient with respect to every weight and bias. */
export function lossAndGradients(
  spec: RefSpec,
  params: RefLayer[],
  x: ArrayLike<number>,
  y: RefTargets,
  b: number,
): { loss: number; gradients: RefLayer[] } {
  const { zs, as } = forward(spec, params, x, b);
  const layers = params.length;
  const nout = spec.sizes[layers];
  const out = lossInput(spec, zs, as);
  const loss = lossValue(spec.loss, out, y, b, nout);
  // For the fused losses the last activation is identity, so this backward passes the gradient through.
  let dz = activationBackward(
    spec.activations[layers - 1],
    zs[layers - 1],
    lossGrad(spec.loss, out, y, b, nout),
    b,
    nout,
  );
  const gradients: RefLayer[] = new Array(layers);
  for (let j = layers - 1; j >= 0; j--) {
    const [nin, n] = [spec.sizes[j], spec.sizes[j + 1]];
    const inp: ArrayLike<number> = j === 0 ? x : as[j - 1];
    const dweight = new Float64Array(n * nin);
    const dbias = new Float64Array(n);
    for (let r = 0; r < b; r++) {
      for (let o = 0; o < n; o++) {
        const d = dz[r * n + o];
        dbias[o] += d;
        for (let i = 0; i < nin; i++) dweight[o * nin + i] += d * inp[r * nin + i];
      }
    }
    gradients[j] = { weight: dweight, bias: dbias };
    if (j === 0) break;
    const dinp = new Float64Array(b * nin);
    for (let r = 0; r < b; r++) {
      for (let o = 0; o < n; o++) {
        const d = dz[r * n + o];
        for (let i = 0; i < nin; i++) dinp[r * nin + i] += d * params[j].weight[o * nin + i];
      }
    }
    dz = activationBackward(spec.activations[j - 1], zs[j - 1], dinp, b, nin);
  }
  return { loss, gradients };
}

/** Softmax probabilities for cross_entropy, sigmoid probabilities for binary_cross_entropy, else F_L. */
export function predict(spec: RefSpec, params: RefLayer[], x: ArrayLike<number>, b: number): Float64Array {
  const { zs, as } = forward(spec, params, x, b);
  const last = zs.length - 1;
  const nout = spec.sizes[last + 1];
  if (spec.loss === 'cross_entropy') return softmaxRows(zs[last], b, nout);
  if (spec.loss === 'binary_cross_entropy') return zs[last].map(sigmoid);
  return as[last];
}
