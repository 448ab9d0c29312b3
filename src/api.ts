// The public names shared by the browser entry (index.ts) and the Node entry (node.ts), listed one by one so
// that what users can import is decided here and nowhere else.
export { DeviceLostError, DivergenceError, ShaderError } from './core/errors.js';
export {
  ACTIVATIONS,
  type Activation,
  type Init,
  INITS,
  type LayerParameters,
  LOSSES,
  type Loss,
  type MlpOptions,
  type OptimizerOptions,
  type ScheduleOptions,
  type Targets,
} from './core/types.js';
export { type CsvDataset, type CsvOptions, parseCsv } from './data/csv.js';
export { type Dataset, oneHot, splitDataset, subset } from './data/dataset.js';
export { accuracy, type RegressionMetrics, regressionMetrics } from './data/metrics.js';
export {
  argmaxRows,
  fitPreprocessing,
  inputsOf,
  predictionsOf,
  readForModel,
  type TablePredictions,
  targetsOf,
  targetValues,
} from './data/preprocess.js';
export { readTable, type Table, type TableOptions } from './data/table.js';
export { chooseTask, readTabular, type TabularData, type TabularOptions } from './data/tabular.js';
export { circles, moons, type SyntheticOptions, twoSpirals, xor, xorTable } from './data/synthetic.js';
export type { TrainingData } from './data/validate.js';
export { Engine, type EngineOptions, type LoadOptions } from './engine.js';
export type { MatmulChoice } from './gpu/autotune.js';
export type { MatmulTimings, MatmulVariantName } from './gpu/kernels.js';
export type { AdapterDescription } from './gpu/device.js';
export type { MemoryReport } from './gpu/runtime.js';
export type { Impute, OneHotColumn, Preprocessing, Task } from './io/preprocessing.js';
export { decodeSafetensors, encodeSafetensors, type TensorEntry } from './io/safetensors.js';
export { Mlp } from './model.js';
export type { GradientCheck, GradientCheckOptions } from './nn/gradcheck.js';
export type { EarlyStoppingOptions, EpochInfo, FitOptions, History, StepInfo } from './train/options.js';
