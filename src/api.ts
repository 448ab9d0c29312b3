// The exports shared by the browser entry (index.ts) and the Node entry (node.ts).
export type { TrainingData } from './data/gpu-dataset.js';
export * from './data/csv.js';
export * from './data/dataset.js';
export * from './data/synthetic.js';
export type { MatmulChoice, MatmulTimings } from './gpu/autotune.js';
export { type AdapterDescription, DeviceLostError, Engine, type EngineOptions, type MemoryReport } from './engine.js';
export { Mlp } from './model.js';
export { ShaderError } from './gpu/pipelines.js';
export { decodeSafetensors, encodeSafetensors, type TensorEntry } from './io/safetensors.js';
export type { EpochInfo, FitOptions, History, StepInfo } from './train/fit.js';
export * from './core/types.js';
