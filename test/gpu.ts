import { afterAll } from 'vitest';
import type { MatmulChoice } from '../src/gpu/autotune.js';
import type { Engine } from '../src/engine.js';
import { createEngine } from '../src/node.js';

/**
 * One engine per test file, on the best adapter (SwiftShader on machines without a GPU). No adapter is a
 * failure, never a skip: a green run means the GPU code ran.
 *
 * Files use the 'regular' matmul kernel unless they ask otherwise: its pipelines compile fastest on SwiftShader.
 * The others are covered by the kernel tests (every kernel, form and epilogue), test/gpu/autotune.test.ts (the
 * kernels train to the same parameters; what 'auto' takes) and the CLI, demo and browser tests, which run with the
 * defaults.
 */
export async function useEngine(matmul: MatmulChoice = 'regular'): Promise<Engine> {
  const engine = await createEngine({ matmul });
  afterAll(() => engine.destroy());
  return engine;
}

/**
 * An onStep that loses the engine's device once, when step `at` has come back (null: never), as a device reset
 * in the middle of a fit would; fit() is to recover from it.
 */
export function loseDeviceAt(engine: Engine, at: number | null): (info: { step: number }) => void {
  let lost = false;
  return ({ step }) => {
    if (step === at && !lost) {
      lost = true;
      engine.loseDevice();
    }
  };
}

// GPU objects of plainDevice(), kept for the life of the test file.
const instances: GPU[] = [];

/**
 * A device of a Dawn instance of its own, asked for without optional features (so without 'subgroups'). Its GPU
 * object stays referenced: dawn.node tears the instance down, devices and all, when the object is collected.
 */
export async function plainDevice(): Promise<GPUDevice> {
  await createEngine({ matmul: 'regular' }).then((e) => e.destroy()); // Dawn's globals and drivers
  const { create } = await import('webgpu');
  const gpu = create([]);
  instances.push(gpu);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  return adapter.requestDevice();
}
