/**
 * webgrad: train multilayer perceptrons on the GPU through WebGPU. This entry uses the browser's
 * navigator.gpu; in Node import from 'webgrad/node'.
 */
import { createEngineFrom, type Engine, type EngineOptions } from './engine.js';

export * from './api.js';

/** Creates an engine on the browser's WebGPU adapter (or the adapter/device passed in). */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const gpu = typeof navigator === 'undefined' ? undefined : navigator.gpu;
  return createEngineFrom(gpu, options);
}
