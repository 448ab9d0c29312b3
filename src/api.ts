// The exports shared by the browser entry (index.ts) and the Node entry (node.ts).
export type { TrainingData } from './batches.js';
export * from './data/csv.js';
export * from './data/dataset.js';
export * from './data/synthetic.js';
export type { MatmulChoice, MatmulTimings } from './autotune.js';
export { type AdapterDescription, DeviceLostError, Engine, type EngineOptions, type MemoryReport } from './engine.js';
export { Mlp } from './model.js';
export { ShaderError } from './pipelines.js';
export { decodeSafetensors, encodeSafetensors, type TensorEntry } from './safetensors.js';
export type { EpochInfo, FitOptions, History, StepInfo } from './train.js';
export * from './types.js';
