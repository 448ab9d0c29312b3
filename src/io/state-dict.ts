import { ACTIVATIONS, type Activation, type LayerParameters, LOSSES, type Loss } from '../core/types.js';
import { show, type TensorEntry } from './safetensors.js';

/**
 * Plain state_dicts: a safetensors file of an nn.Sequential of Linear layers (with activation or dropout modules
 * between them) as PyTorch writes it, without webgrad's metadata. Its layers come from the tensor names
 * (`<prefix><index>.weight` and `.bias`, indices increasing) and shapes; the activations and the loss, which
 * the file does not hold, from the caller.
 */

/** What a caller gives to load a file that does not describe its own architecture. */
export interface Architecture {
  /** One per Linear layer, as MlpOptions.activations. */
  activations: Activation[];
  loss: Loss;
}

/** Checks a caller's architecture: known names, a last activation the loss accepts. `layers` when known. */
export function checkArchitecture(value: unknown, what: string): Architecture {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${what}: expected { activations, loss }, got ${show(value)}`);
  }
  const source = value as Record<string, unknown>;
  const activations = Object.hasOwn(source, 'activations') ? source.activations : undefined;
  const loss = Object.hasOwn(source, 'loss') ? source.loss : undefined;
  if (!Array.isArray(activations) || activations.length === 0) {
    throw new TypeError(`${what}: activations must be a list of names, one per Linear layer, got ${show(activations)}`);
  }
  activations.forEach((a, i) => {
    if (!(ACTIVATIONS as readonly unknown[]).includes(a)) {
      throw new TypeError(`${what}: activations[${i}] = ${show(a)} is not one of ${ACTIVATIONS.join(', ')}`);
    }
  });
  if (!(LOSSES as readonly unknown[]).includes(loss)) {
    throw new TypeError(`${what}: loss must be one of ${LOSSES.join(', ')}, got ${show(loss)}`);
  }
  const last = activations[activations.length - 1];
  if (loss !== 'mse' && last !== 'identity') {
    throw new TypeError(
      `${what}: the ${loss} loss applies its own output function, so the last activation must be 'identity', got ${show(last)}`,
    );
  }
  return { activations: [...activations] as Activation[], loss: loss as Loss };
}

const NAME = /^(.*?)(\d+)\.(weight|bias)$/;

/** The layers of a plain state_dict for `arch`; a RangeError listing the tensors found and expected otherwise. */
export function decodeStateDict(
  tensors: TensorEntry[],
  arch: Architecture,
): { sizes: number[]; params: LayerParameters[] } {
  const layers = arch.activations.length;
  const fail = (why: string): never => {
    const found = tensors.slice(0, 8).map((t) => `${show(t.name)} ${show(t.shape)}`);
    const expected = Array.from({ length: Math.min(layers, 4) }, (_, j) => `${2 * j}.weight, ${2 * j}.bias`);
    throw new RangeError(
      `load: the file has no webgrad metadata and its tensors do not fit nn.Sequential with ${layers} Linear ` +
        `layer${layers > 1 ? 's' : ''} (${why}). Found ${tensors.length}: ${found.join(', ')}` +
        `${tensors.length > 8 ? ', ...' : ''}. Expected: ${expected.join(', ')}${layers > 4 ? ', ...' : ''}`,
    );
  };
  const byIndex = new Map<number, { weight?: TensorEntry; bias?: TensorEntry }>();
  let prefix: string | null = null;
  for (const t of tensors) {
    const m = NAME.exec(t.name);
    if (!m) fail(`${show(t.name)} is not named <index>.weight or <index>.bias`);
    const [, p, index, kind] = m as RegExpExecArray;
    if (prefix !== null && p !== prefix) fail(`${show(t.name)} does not share the prefix ${show(prefix)}`);
    prefix = p;
    const entry = byIndex.get(Number(index)) ?? {};
    entry[kind as 'weight' | 'bias'] = t;
    byIndex.set(Number(index), entry);
  }
  const ordered = [...byIndex.entries()].sort((a, b) => a[0] - b[0]);
  if (ordered.length !== layers) fail(`${ordered.length} Linear layers in the file, ${layers} activations given`);
  const sizes: number[] = [];
  const params = ordered.map(([index, { weight, bias }], j) => {
    if (!weight || !bias) fail(`layer ${index} has no ${weight ? 'bias' : 'weight'}`);
    const [w, b] = [weight as TensorEntry, bias as TensorEntry];
    if (w.shape.length !== 2 || b.shape.length !== 1 || b.shape[0] !== w.shape[0]) {
      fail(
        `${show(w.name)} ${show(w.shape)} and ${show(b.name)} ${show(b.shape)} are not a Linear layer's [out, in] and [out]`,
      );
    }
    if (j === 0) sizes.push(w.shape[1]);
    else if (w.shape[1] !== sizes[j])
      fail(`${show(w.name)} takes ${w.shape[1]} inputs, but the layer before gives ${sizes[j]}`);
    if (w.shape[0] < 1 || w.shape[1] < 1) fail(`${show(w.name)} has an empty shape ${show(w.shape)}`);
    sizes.push(w.shape[0]);
    return { weight: w.data, bias: b.data };
  });
  return { sizes, params };
}
