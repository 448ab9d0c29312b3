import { describe } from '../core/errors.js';
import { Random } from '../core/random.js';
import {
  ACTIVATIONS,
  type Activation,
  type Init,
  INITS,
  type LayerParameters,
  LOSSES,
  type MlpOptions,
} from '../core/types.js';
import { firstNonFinite } from '../data/validate.js';
import { SLOT_BYTES } from '../gpu/kernels.js';

/**
 * Where an MLP's numbers live: layer widths to padded offsets in one flat parameter buffer, packing from and to
 * torch.nn.Linear's layout, initialisation, and how many rows one pass can hold. Pure functions of the shape.
 */

/** Floats per storage-offset alignment step (256 bytes, which every device accepts). */
const ALIGN = SLOT_BYTES / 4;

export const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

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

/** The layers of an MLP and the floats of its flat parameter buffer (every tensor at an aligned offset). */
export function layout(
  sizes: readonly number[],
  activations: readonly Activation[],
): { layers: Layer[]; floats: number } {
  let offset = 0;
  const layers = activations.map((act, l) => {
    const inp = sizes[l];
    const out = sizes[l + 1];
    const ldIn = roundUp(inp, 4);
    const ldOut = roundUp(out, 4);
    const wOffset = offset;
    const bOffset = roundUp(wOffset + ldOut * ldIn, ALIGN);
    offset = roundUp(bOffset + ldOut, ALIGN);
    return { inp, out, ldIn, ldOut, act, wOffset, bOffset };
  });
  return { layers, floats: offset };
}

/** Weights and biases over all layers. */
export const parameterCount = (layers: readonly Layer[]) => layers.reduce((n, l) => n + l.out * l.inp + l.out, 0);

/**
 * He initialisation for the rectifier family, whose outputs halve the variance; Xavier for the rest; biases 0.
 * With `init` 'torch', torch.nn.Linear's: weights and biases uniform in ±1/√in.
 */
export function initialParameters(
  layers: readonly Layer[],
  floats: number,
  seed: number,
  init: Init = 'he',
): Float32Array {
  const rng = new Random(seed);
  const flat = new Float32Array(floats);
  for (const layer of layers) {
    if (init === 'torch') {
      const bound = 1 / Math.sqrt(layer.inp);
      for (let o = 0; o < layer.out; o++) {
        for (let i = 0; i < layer.inp; i++) flat[layer.wOffset + o * layer.ldIn + i] = bound * (2 * rng.uniform() - 1);
      }
      for (let o = 0; o < layer.out; o++) flat[layer.bOffset + o] = bound * (2 * rng.uniform() - 1);
      continue;
    }
    const he = ['relu', 'leaky_relu', 'elu', 'gelu', 'silu'].includes(layer.act);
    const std = he ? Math.sqrt(2 / layer.inp) : Math.sqrt(2 / (layer.inp + layer.out));
    for (let o = 0; o < layer.out; o++) {
      for (let i = 0; i < layer.inp; i++) flat[layer.wOffset + o * layer.ldIn + i] = std * rng.normal();
    }
  }
  return flat;
}

/** Checks layers in torch.nn.Linear layout ([out, in] weights, [out] biases, finite) and packs them flat. */
export function packLayers(layers: readonly Layer[], floats: number, params: LayerParameters[], what: string) {
  if (!Array.isArray(params) || params.length !== layers.length) {
    throw new TypeError(
      `${what}: expected an array of ${layers.length} { weight, bias } layers, got ${describe(params)}`,
    );
  }
  const flat = new Float32Array(floats);
  layers.forEach((layer, l) => {
    const { weight, bias } = params[l] ?? ({} as LayerParameters);
    if (!(weight instanceof Float32Array) || weight.length !== layer.out * layer.inp) {
      throw new TypeError(
        `${what}: layer ${l} weight must be a Float32Array of ${layer.out}x${layer.inp} = ` +
          `${layer.out * layer.inp} values, got ${describe(weight)}`,
      );
    }
    if (!(bias instanceof Float32Array) || bias.length !== layer.out) {
      throw new TypeError(
        `${what}: layer ${l} bias must be a Float32Array of ${layer.out} values, got ${describe(bias)}`,
      );
    }
    for (const [name, a] of [
      ['weight', weight],
      ['bias', bias],
    ] as const) {
      const bad = firstNonFinite(a);
      if (bad >= 0) throw new RangeError(`${what}: layer ${l} ${name}[${bad}] is ${a[bad]}, not finite`);
    }
    for (let o = 0; o < layer.out; o++) {
      flat.set(weight.subarray(o * layer.inp, (o + 1) * layer.inp), layer.wOffset + o * layer.ldIn);
    }
    flat.set(bias, layer.bOffset);
  });
  return flat;
}

/** The flat buffer's layers in torch.nn.Linear layout. */
export function unpackLayers(layers: readonly Layer[], flat: Float32Array): LayerParameters[] {
  return layers.map((layer) => ({
    weight: unpad(flat.subarray(layer.wOffset), layer.out, layer.inp, layer.ldIn),
    bias: flat.slice(layer.bOffset, layer.bOffset + layer.out),
  }));
}

/** Row-major [rows, ld] to [rows, cols]. */
export function unpad(data: Float32Array, rows: number, cols: number, ld: number): Float32Array {
  if (cols === ld) return data.slice(0, rows * cols);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * ld, r * ld + cols), r * cols);
  return out;
}

/** Row-major [rows, cols] to [rows, ld] in a reused scratch array; the input itself when no padding is needed. */
export class Padder {
  private scratch = new Float32Array(0);

  pad(data: Float32Array, rows: number, cols: number, ld: number): Float32Array {
    if (cols === ld) return data;
    if (this.scratch.length < rows * ld) this.scratch = new Float32Array(rows * ld);
    const out = this.scratch.subarray(0, rows * ld);
    out.fill(0);
    for (let r = 0; r < rows; r++) out.set(data.subarray(r * cols, (r + 1) * cols), r * ld);
    return out;
  }
}

/**
 * Rows one pass can hold: every activation [rows, ld] must fit a storage binding and a buffer, and the matmul
 * grid a dispatch (`tileRows` rows per workgroup). Parameters that cannot fit at all are an error naming the limit.
 */
export function rowLimit(
  layers: readonly Layer[],
  floats: number,
  limits: GPUSupportedLimits,
  tileRows: number,
  requested?: number,
): number {
  const binding = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (floats * 4 > binding) {
    throw new RangeError(
      `mlp: the ${parameterCount(layers)} parameters need ${floats * 4} bytes in one binding, but this device ` +
        `allows ${binding} (min of maxStorageBufferBindingSize and maxBufferSize)`,
    );
  }
  const widest = Math.max(...layers.map((l) => Math.max(l.ldIn, l.ldOut)));
  const byBinding = Math.floor(binding / (4 * widest));
  if (byBinding < 1) {
    throw new RangeError(
      `mlp: one row of a ${widest}-wide layer needs ${4 * widest} bytes, but this device binds at most ${binding}`,
    );
  }
  const byGrid = limits.maxComputeWorkgroupsPerDimension * tileRows;
  return Math.max(1, Math.min(byBinding, byGrid, requested ?? Number.POSITIVE_INFINITY));
}

/** Throws a TypeError/RangeError naming the field for MLP options that cannot work. */
export function validateMlpOptions(options: MlpOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`mlp: expected an options object { sizes, activations, loss }, got ${describe(options)}`);
  }
  const { sizes, activations, loss } = options;
  if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new RangeError(`mlp: sizes must be at least two integers >= 1 (input first), got ${describe(sizes)}`);
  }
  if (!Array.isArray(activations) || activations.length !== sizes.length - 1) {
    throw new RangeError(
      `mlp: activations must have ${sizes.length - 1} entries (one per layer for sizes [${sizes}]), got ${describe(activations)}`,
    );
  }
  activations.forEach((a, i) => {
    if (!ACTIVATIONS.includes(a)) {
      throw new TypeError(`mlp: activations[${i}] = ${describe(a)} is not one of ${ACTIVATIONS.join(', ')}`);
    }
  });
  if (!LOSSES.includes(loss)) throw new TypeError(`mlp: loss ${describe(loss)} is not one of ${LOSSES.join(', ')}`);
  const lastAct = activations[activations.length - 1];
  if (loss !== 'mse' && lastAct !== 'identity') {
    throw new TypeError(
      `mlp: ${loss} applies its own ${loss === 'cross_entropy' ? 'softmax' : 'sigmoid'}, so the last activation must be 'identity', got '${lastAct}'`,
    );
  }
  if (options.init !== undefined && !INITS.includes(options.init)) {
    throw new TypeError(`mlp: init must be one of ${INITS.join(', ')}, got ${describe(options.init)}`);
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new TypeError(`mlp: seed must be an integer, got ${describe(options.seed)}`);
  }
  for (const name of ['batchSize', 'microBatchSize'] as const) {
    const v = options[name];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) {
      throw new RangeError(`mlp: ${name} must be an integer >= 1, got ${describe(v)}`);
    }
  }
}

/** Floating-point operations of one training step per sample: forward, and backward to inputs and weights. */
export function flopsPerSample(sizes: readonly number[]): number {
  let sum = 0;
  for (let l = 0; l + 1 < sizes.length; l++) sum += sizes[l] * sizes[l + 1];
  return 6 * sum;
}
