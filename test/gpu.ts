import { afterAll } from 'vitest';
import type { MatmulChoice } from '../src/gpu/autotune.js';
import type { Engine } from '../src/engine.js';
import { createEngine } from '../src/node.js';

/**
 * One engine per test file, on the best adapter (SwiftShader on machines without a GPU). No adapter is a
 * failure, never a skip: a green run means the GPU code ran.
 *
 * Files use the 'regular' matmul kernel unless they ask otherwise. 'auto' picks 'wide' on SwiftShader, whose
 * pipelines take seconds each to compile there; it is covered by the kernel tests (all three kernels, every form
 * and epilogue), test/gpu/autotune.test.ts (the kernels train to the same parameters) and the CLI, demo and
 * browser tests, which run with the defaults.
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
