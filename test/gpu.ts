import { afterAll } from 'vitest';
import type { Engine } from '../src/engine.js';
import { createEngine } from '../src/node.js';

/**
 * One engine per test file, on the best adapter (SwiftShader on machines without a GPU). No adapter is a
 * failure, never a skip: a green run means the GPU code ran.
 */
export async function useEngine(): Promise<Engine> {
  const engine = await createEngine();
  afterAll(() => engine.destroy());
  return engine;
}
