/**
 * webgrad: train multilayer perceptrons on the GPU through WebGPU. This entry uses the browser's
 * navigator.gpu; in Node import from 'webgrad/node'.
 */
import { createEngineFrom, type Engine, type EngineOptions } from './engine.js';
import { indexedDbStore, type TuningStore } from './gpu/tuning-store.js';

export * from './api.js';

let store: TuningStore | undefined;

/**
 * Creates an engine on the browser's WebGPU adapter (or the adapter/device passed in). On an adapter that runs
 * shaders on the CPU, the first engine of an origin times the matmul kernels, a few seconds, and keeps the choice
 * in IndexedDB (database 'webgrad') for later pages.
 */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const gpu = typeof navigator === 'undefined' ? undefined : navigator.gpu;
  store ??= indexedDbStore();
  return createEngineFrom(gpu, options, { store });
}
