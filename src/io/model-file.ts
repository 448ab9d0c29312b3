import {
  ACTIVATIONS,
  type Activation,
  type LayerParameters,
  LOSSES,
  type Loss,
  type OptimizerOptions,
} from '../core/types.js';
import {
  decodeClipNorm,
  decodeOptimizerOptions,
  decodeStep,
  OPTIMIZER_FIELDS,
  STATE_NAMES,
} from './optimizer-metadata.js';
import { decodePreprocessing, encodePreprocessing, type Preprocessing } from './preprocessing.js';
import { decodeSafetensors, encodeSafetensors, show, type TensorEntry } from './safetensors.js';
import { type Architecture, checkArchitecture, decodeStateDict } from './state-dict.js';

/**
 * Model files: safetensors, loadable by PyTorch's safetensors. Tensors are named as nn.Sequential would name
 * them with an activation module after every Linear (`0.weight`, `0.bias`, `2.weight`, …); the architecture,
 * activations and loss go in the metadata. Optimizer state, when saved, follows torch's state names
 * (`optimizer.momentum_buffer.0.weight`, `optimizer.exp_avg.0.weight`, `optimizer.exp_avg_sq.0.weight`). A model
 * trained on a table carries its preprocessing as JSON in metadata.preprocessing (see preprocessing.ts). A file
 * without webgrad's metadata (a PyTorch state_dict) is read with the architecture the caller gives
 * (see state-dict.ts).
 *
 * This file knows nothing of the GPU or of the model classes: decodeModel returns plain data, which the engine
 * turns into a model. Every name the file supplies is looked up in a Map or an array, never through an object's
 * properties, so names such as "constructor" or "__proto__" cannot reach Object.prototype.
 */

const FORMAT = 'webgrad-mlp';

/** What encodeModel needs of a model: its architecture. */
export interface ModelSpec {
  sizes: readonly number[];
  activations: readonly Activation[];
  loss: Loss;
}

/** Optimizer state as plain arrays in parameter layout, for saving and checkpoints. */
export interface OptimizerSnapshot {
  options: OptimizerOptions;
  clipNorm?: number;
  step: number;
  /** One entry per state buffer (momentum; or Adam's m and v), each in getParameters() layout. */
  state: LayerParameters[][];
}

/** A checked model file: everything needed to rebuild the model it describes. */
export interface ModelFile {
  sizes: number[];
  activations: Activation[];
  loss: Loss;
  params: LayerParameters[];
  optimizer: OptimizerSnapshot | null;
  /** The table preprocessing saved with the model, if any. */
  preprocessing: Preprocessing | null;
}

/**
 * Serialises parameters (and optionally optimizer state) of a model. Only the options decodeModel accepts for
 * the optimizer's type are written (in their original order), so every file written here can be read back.
 */
export function encodeModel(
  spec: ModelSpec,
  params: LayerParameters[],
  optimizer: OptimizerSnapshot | null,
  preprocessing: Preprocessing | null = null,
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
    sizes: JSON.stringify(spec.sizes),
    activations: JSON.stringify(spec.activations),
    loss: spec.loss,
  };
  if (preprocessing) metadata.preprocessing = encodePreprocessing(preprocessing);
  if (optimizer) {
    const { options, state } = optimizer;
    const type: unknown = options?.type;
    const names = typeof type === 'string' ? STATE_NAMES.get(type) : undefined;
    const fields = typeof type === 'string' ? OPTIMIZER_FIELDS.get(type) : undefined;
    if (!names || !fields) {
      throw new TypeError(`save: optimizer type ${show(type)} is not one of ${[...STATE_NAMES.keys()].join(', ')}`);
    }
    if (state.length !== 0 && state.length !== names.length) {
      throw new RangeError(`save: ${type} keeps ${names.length} state tensors per parameter, got ${state.length}`);
    }
    state.forEach((layers, k) => {
      add(`optimizer.${names[k]}.`, layers);
    });
    // In the options' own order, which the optimizer's identity (JSON.stringify of the options) depends on.
    const written: Record<string, unknown> = {};
    for (const key of Object.keys(options)) {
      if (key === 'type' || fields.has(key)) written[key] = (options as unknown as Record<string, unknown>)[key];
    }
    metadata.optimizer = JSON.stringify(written);
    metadata.optimizer_step = String(optimizer.step);
    if (optimizer.clipNorm !== undefined) metadata.clip_norm = String(optimizer.clipNorm);
  }
  return encodeSafetensors(tensors, metadata);
}

/**
 * Parses and checks a model file (untrusted): the safetensors structure first, then every metadata field, then
 * that the metadata describes an architecture whose every tensor is present with the right shape. As the
 * tensors must all be there, the parameter count is bounded by the file's size. Refusals are TypeErrors (a
 * value of the wrong kind) or RangeErrors (out of range), starting "load: " or "safetensors: ".
 *
 * With `architecture` ({ activations, loss }), a file without webgrad's metadata.format is read as a plain
 * nn.Sequential state_dict; a webgrad file must then agree with it.
 */
export function decodeModel(bytes: Uint8Array, architecture?: Architecture): ModelFile {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(
      `load: expected the file's bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`,
    );
  }
  const { tensors, metadata } = decodeSafetensors(bytes);
  // decodeSafetensors returns a null-prototype object; own lookups keep that true whatever it returns.
  const field: MetadataField = (name) => (Object.hasOwn(metadata, name) ? metadata[name] : undefined);
  const given = architecture === undefined ? undefined : checkArchitecture(architecture, 'load: options');
  if (given && field('format') !== FORMAT) {
    const { sizes, params } = decodeStateDict(tensors, given);
    return { sizes, ...given, params, optimizer: null, preprocessing: null };
  }
  const { sizes, activations, loss } = decodeArchitecture(field);
  if (given) checkAgrees(given, activations, loss);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const params = takeLayers(byName, sizes, '');
  const optimizer = decodeOptimizer(field, byName, sizes);
  checkAllTaken(byName, sizes);
  const text = field('preprocessing');
  const preprocessing = text === undefined ? null : decodePreprocessing(text, { sizes, loss });
  return { sizes, activations, loss, params, optimizer, preprocessing };
}

/** A webgrad file loaded with an architecture: the two must say the same. */
function checkAgrees(given: Architecture, activations: Activation[], loss: Loss): void {
  if (JSON.stringify(given.activations) !== JSON.stringify(activations) || given.loss !== loss) {
    throw new RangeError(
      `load: the file is a webgrad model with activations ${show(activations)} and loss ${loss}, but the options ` +
        `say ${show(given.activations)} and ${given.loss}; leave them out to use the file's`,
    );
  }
}

/** Looks up one metadata field by name; undefined when the file does not have it. */
type MetadataField = (name: string) => string | undefined;

/** The format tag, then sizes, activations and loss, checked in that order. */
function decodeArchitecture(field: MetadataField): Pick<ModelFile, 'sizes' | 'activations' | 'loss'> {
  const format = field('format');
  if (format !== FORMAT) {
    throw new TypeError(
      `load: metadata.format must be "${FORMAT}", got ${show(format ?? null)}; a file without webgrad's metadata ` +
        '(a PyTorch state_dict) loads with { activations, loss } given',
    );
  }
  const sizes = decodeSizes(field('sizes'));
  const activations = decodeActivations(field('activations'), sizes);
  const loss = decodeLoss(field('loss'), activations);
  return { sizes, activations, loss };
}

/**
 * Takes out of `byName` the weight and bias of every layer, named `${prefix}${2 * j}.weight` and `.bias`, and
 * checks their shapes against `sizes`.
 */
function takeLayers(byName: Map<string, TensorEntry>, sizes: number[], prefix: string): LayerParameters[] {
  return sizes.slice(1).map((out, j) => {
    const inp = sizes[j];
    const w = byName.get(`${prefix}${2 * j}.weight`);
    const b = byName.get(`${prefix}${2 * j}.bias`);
    if (!w || !b) throw new RangeError(`load: tensor ${prefix}${2 * j}.${w ? 'bias' : 'weight'} is missing`);
    if (w.shape.length !== 2 || w.shape[0] !== out || w.shape[1] !== inp) {
      throw new RangeError(
        `load: ${w.name} must have shape [${out}, ${inp}] for sizes ${show(sizes)}, got ${show(w.shape)}`,
      );
    }
    if (b.shape.length !== 1 || b.shape[0] !== out) {
      throw new RangeError(`load: ${b.name} must have shape [${out}], got ${show(b.shape)}`);
    }
    byName.delete(w.name);
    byName.delete(b.name);
    return { weight: w.data, bias: b.data };
  });
}

/**
 * The optimizer's options, step, clip norm and (when the file has any) state tensors, taken out of `byName`;
 * null when the file has no metadata.optimizer, which then must have no optimizer fields either.
 */
function decodeOptimizer(
  field: MetadataField,
  byName: Map<string, TensorEntry>,
  sizes: number[],
): OptimizerSnapshot | null {
  const optimizerText = field('optimizer');
  if (optimizerText === undefined) {
    for (const name of ['optimizer_step', 'clip_norm']) {
      if (field(name) !== undefined) {
        throw new TypeError(`load: metadata.${name} is given without metadata.optimizer, which it belongs to`);
      }
    }
    return null;
  }
  const options = decodeOptimizerOptions(parseJson(optimizerText, 'optimizer'), optimizerText);
  const names = STATE_NAMES.get(options.type)!;
  const step = decodeStep(field('optimizer_step'));
  const clipNorm = decodeClipNorm(field('clip_norm'));
  const hasState = names.some((n) => [...byName.keys()].some((k) => k.startsWith(`optimizer.${n}.`)));
  const state = hasState ? names.map((n) => takeLayers(byName, sizes, `optimizer.${n}.`)) : [];
  return clipNorm === undefined ? { options, step, state } : { options, clipNorm, step, state };
}

/** Refuses a file with tensors that no layer or state buffer took, naming the first few. */
function checkAllTaken(byName: Map<string, TensorEntry>, sizes: number[]): void {
  if (byName.size === 0) return;
  const names = [...byName.keys()].slice(0, 5).map((name) => (name.length > 60 ? name.slice(0, 57) + '...' : name));
  throw new RangeError(
    `load: unexpected tensors ${names.join(', ')}${byName.size > 5 ? ', ...' : ''} for sizes ${show(sizes)}`,
  );
}

function parseJson(text: string | undefined, name: string): unknown {
  if (text === undefined) throw new TypeError(`load: metadata.${name} is missing`);
  try {
    return JSON.parse(text);
  } catch {
    throw new TypeError(`load: metadata.${name} is not valid JSON: ${show(text)}`);
  }
}

function decodeSizes(text: string | undefined): number[] {
  const sizes = parseJson(text, 'sizes');
  if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((s) => Number.isSafeInteger(s) && s >= 1)) {
    throw new RangeError(`load: metadata.sizes must be a list of at least two integers >= 1, got ${show(text)}`);
  }
  return sizes;
}

function isActivation(value: unknown): value is Activation {
  return typeof value === 'string' && (ACTIVATIONS as readonly string[]).includes(value);
}

function isLoss(value: unknown): value is Loss {
  return typeof value === 'string' && (LOSSES as readonly string[]).includes(value);
}

function decodeActivations(text: string | undefined, sizes: number[]): Activation[] {
  const activations = parseJson(text, 'activations');
  const layers = sizes.length - 1;
  if (!Array.isArray(activations)) {
    throw new TypeError(`load: metadata.activations must be a list of ${layers} names, got ${show(text)}`);
  }
  if (activations.length !== layers) {
    throw new RangeError(
      `load: metadata.activations must have ${layers} entries (one per layer for sizes ${show(sizes)}), ` +
        `got ${activations.length}`,
    );
  }
  activations.forEach((a, i) => {
    if (!isActivation(a)) {
      throw new TypeError(`load: metadata.activations[${i}] = ${show(a)} is not one of ${ACTIVATIONS.join(', ')}`);
    }
  });
  return activations;
}

function decodeLoss(loss: string | undefined, activations: Activation[]): Loss {
  if (loss === undefined) throw new TypeError('load: metadata.loss is missing');
  if (!isLoss(loss)) throw new TypeError(`load: metadata.loss ${show(loss)} is not one of ${LOSSES.join(', ')}`);
  const last = activations[activations.length - 1];
  if (loss !== 'mse' && last !== 'identity') {
    throw new TypeError(
      `load: metadata.loss ${loss} applies its own ${loss === 'cross_entropy' ? 'softmax' : 'sigmoid'}, ` +
        `so the last of metadata.activations must be 'identity', got '${last}'`,
    );
  }
  return loss;
}
