import type { Loss } from '../core/types.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Layer } from './layout.js';

/** Activation buffers for up to `capacity` rows. */
export interface Activations {
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

/** Activation buffers for up to `capacity` rows of a network with these layers and loss. */
export function allocateActivations(runtime: Runtime, layers: Layer[], loss: Loss, capacity: number): Activations {
  const S = GPUBufferUsage;
  const owned: GPUBuffer[] = [];
  const make = (label: string, floats: number, usage = S.STORAGE) => {
    const b = runtime.createBuffer(label, floats * 4, usage);
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
