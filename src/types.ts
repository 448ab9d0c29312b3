/** Coordinatewise activations, plus softmax (along each row, full Jacobian). */
export const ACTIVATIONS = [
  'identity',
  'relu',
  'leaky_relu',
  'sigmoid',
  'tanh',
  'gelu',
  'softplus',
  'elu',
  'silu',
  'softmax',
] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * Losses. `cross_entropy` fuses softmax (as torch.nn.CrossEntropyLoss), `binary_cross_entropy` fuses sigmoid
 * (as BCEWithLogitsLoss, mean over all elements); both need an identity last activation. `mse` is the mean over
 * batch and outputs (as MSELoss) of the last layer's activated output.
 */
export const LOSSES = ['cross_entropy', 'mse', 'binary_cross_entropy'] as const;
export type Loss = (typeof LOSSES)[number];

/** One layer's parameters: weight [out, in] row-major (as torch.nn.Linear), bias [out]. */
export interface LayerParameters {
  weight: Float32Array;
  bias: Float32Array;
}

/** Targets: Float32Array [b, out] (probabilities, one-hot or regression values) or Uint32Array [b] class indices. */
export type Targets = Float32Array | Uint32Array;

export interface MlpOptions {
  /** Layer widths, input first: [in, hidden..., out]. */
  sizes: number[];
  /** One activation per layer (sizes.length - 1 entries). */
  activations: Activation[];
  loss: Loss;
  /** Seed for the He/Xavier initialisation. Default 0. */
  seed?: number;
  /** Rows to allocate for up front; larger batches grow the buffers once. Default 256. */
  batchSize?: number;
}
