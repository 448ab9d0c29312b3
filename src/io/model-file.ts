import type { Engine } from '../engine.js';
import type { Mlp } from '../model.js';
import { decodeSafetensors, encodeSafetensors, type TensorEntry } from './safetensors.js';
import type { Activation, LayerParameters, Loss, OptimizerOptions } from '../core/types.js';

/**
 * Model files: safetensors, loadable by PyTorch's safetensors. Tensors are named as nn.Sequential would name
 * them with an activation module after every Linear (`0.weight`, `0.bias`, `2.weight`, …); the architecture,
 * activations and loss go in the metadata. Optimizer state, when saved, follows torch's state names
 * (`optimizer.momentum_buffer.0.weight`, `optimizer.exp_avg.0.weight`, `optimizer.exp_avg_sq.0.weight`).
 */

const FORMAT = 'webgrad-mlp';
const STATE_NAMES: Record<OptimizerOptions['type'], string[]> = {
  sgd: ['momentum_buffer'],
  adam: ['exp_avg', 'exp_avg_sq'],
  adamw: ['exp_avg', 'exp_avg_sq'],
};

/** Optimizer state as plain arrays in parameter layout, for saving and checkpoints. */
export interface OptimizerSnapshot {
  options: OptimizerOptions;
  clipNorm?: number;
  step: number;
  /** One entry per state buffer (momentum; or Adam's m and v), each in getParameters() layout. */
  state: LayerParameters[][];
}

/** Serialises parameters (and optionally optimizer state) of a model. */
export function encodeModel(
  model: Pick<Mlp, 'sizes' | 'activations' | 'loss'>,
  params: LayerParameters[],
  optimizer: OptimizerSnapshot | null,
): Uint8Array {
  const tensors: TensorEntry[] = [];
  const add = (prefix: string, layers: LayerParameters[]) => {
    layers.forEach((p, j) => {
      tensors.push({
        name: `${prefix}${2 * j}.weight`,
        shape: [p.bias.length, p.weight.length / p.bias.length],
        data: p.weight,
      });
      tensors.push({ name: `${prefix}${2 * j}.bias`, shape: [p.bias.length], data: p.bias });
    });
  };
  add('', params);
  const metadata: Record<string, string> = {
    format: FORMAT,
    sizes: JSON.stringify(model.sizes),
    activations: JSON.stringify(model.activations),
    loss: model.loss,
  };
  if (optimizer) {
    const names = STATE_NAMES[optimizer.options.type];
    optimizer.state.forEach((layers, k) => {
      add(`optimizer.${names[k]}.`, layers);
    });
    metadata.optimizer = JSON.stringify(optimizer.options);
    metadata.optimizer_step = String(optimizer.step);
    if (optimizer.clipNorm !== undefined) metadata.clip_norm = String(optimizer.clipNorm);
  }
  return encodeSafetensors(tensors, metadata);
}

/**
 * Parses and checks a model file (untrusted): the safetensors structure first, then that the metadata describes
 * an architecture whose every tensor is present with the right shape, before anything is allocated for it.
 */
export function decodeModel(bytes: Uint8Array): {
  sizes: number[];
  activations: Activation[];
  loss: Loss;
  params: LayerParameters[];
  optimizer: OptimizerSnapshot | null;
} {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `load: expected the file's bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`,
    );
  }
  const { tensors, metadata } = decodeSafetensors(bytes);
  if (metadata.format !== FORMAT) {
    throw new TypeError(`load: metadata.format must be "${FORMAT}", got ${JSON.stringify(metadata.format ?? null)}`);
  }
  const sizes = parseJson(metadata.sizes, 'sizes');
  const activations = parseJson(metadata.activations, 'activations');
  if (!Array.isArray(sizes) || !sizes.every((s) => Number.isSafeInteger(s) && s >= 1) || sizes.length < 2) {
    throw new RangeError(`load: metadata.sizes must be a list of at least two integers >= 1, got ${metadata.sizes}`);
  }
  if (!Array.isArray(activations) || !activations.every((a) => typeof a === 'string')) {
    throw new TypeError(`load: metadata.activations must be a list of names, got ${metadata.activations}`);
  }
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const take = (prefix: string): LayerParameters[] =>
    sizes.slice(1).map((out: number, j: number) => {
      const inp = sizes[j];
      const w = byName.get(`${prefix}${2 * j}.weight`);
      const b = byName.get(`${prefix}${2 * j}.bias`);
      if (!w || !b) throw new RangeError(`load: tensor ${prefix}${2 * j}.${w ? 'bias' : 'weight'} is missing`);
      if (w.shape.length !== 2 || w.shape[0] !== out || w.shape[1] !== inp) {
        throw new RangeError(`load: ${w.name} must have shape [${out}, ${inp}] for sizes [${sizes}], got [${w.shape}]`);
      }
      if (b.shape.length !== 1 || b.shape[0] !== out) {
        throw new RangeError(`load: ${b.name} must have shape [${out}], got [${b.shape}]`);
      }
      byName.delete(w.name);
      byName.delete(b.name);
      return { weight: w.data, bias: b.data };
    });
  const params = take('');
  let optimizer: OptimizerSnapshot | null = null;
  if (metadata.optimizer !== undefined) {
    const options = parseJson(metadata.optimizer, 'optimizer') as OptimizerOptions;
    const names = STATE_NAMES[options?.type];
    if (!names) throw new TypeError(`load: metadata.optimizer has an unknown type: ${metadata.optimizer}`);
    const step = Number(metadata.optimizer_step);
    if (!Number.isSafeInteger(step) || step < 0) {
      throw new RangeError(`load: metadata.optimizer_step must be an integer >= 0, got ${metadata.optimizer_step}`);
    }
    const clipNorm = metadata.clip_norm === undefined ? undefined : Number(metadata.clip_norm);
    const hasState = names.some((n) => [...byName.keys()].some((k) => k.startsWith(`optimizer.${n}.`)));
    const state = hasState ? names.map((n) => take(`optimizer.${n}.`)) : [];
    optimizer = { options, clipNorm, step, state };
  }
  if (byName.size > 0) {
    throw new RangeError(`load: unexpected tensors ${[...byName.keys()].slice(0, 5).join(', ')} for sizes [${sizes}]`);
  }
  return { sizes, activations: activations as Activation[], loss: metadata.loss as Loss, params, optimizer };
}

function parseJson(text: string | undefined, field: string): unknown {
  if (text === undefined) throw new TypeError(`load: metadata.${field} is missing`);
  try {
    return JSON.parse(text);
  } catch {
    throw new TypeError(`load: metadata.${field} is not valid JSON: ${text.slice(0, 80)}`);
  }
}

/** Rebuilds a model from a file on an engine (engine.load). */
export async function loadModel(engine: Engine, bytes: Uint8Array): Promise<Mlp> {
  const file = decodeModel(bytes);
  const model = engine.mlp({ sizes: file.sizes, activations: file.activations, loss: file.loss });
  try {
    model.setParameters(file.params);
    if (file.optimizer) model.restoreOptimizer(file.optimizer);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
