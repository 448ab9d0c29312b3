// Where webgrad plugs into the benchmark. Each function prepares one case and returns it, or returns
// null while webgrad has no implementation (the table then shows '-'). The harness does the timing:
// warm-up, then repetitions of run() calls ended by one sync(), the same way it times TensorFlow.js.
import type { MatmulForm } from './common.js';

export interface WebgradCase {
  /** Enqueues one operation (one matmul, or one training step). Need not wait for the GPU. */
  run(): void | Promise<void>;
  /** Resolves once all work enqueued by run() has finished; default: device.queue.onSubmittedWorkDone(). */
  sync?(): Promise<void>;
  /** Frees the case's buffers. */
  dispose(): void;
}

/**
 * A matmul C (m×n) = op(A)·op(B) in one of the training forms, operands already on `device`
 * (shapes as stored: see MatmulForm in common.ts).
 */
export async function benchWebgradMatmul(
  _device: GPUDevice,
  _form: MatmulForm,
  _m: number,
  _n: number,
  _k: number,
): Promise<WebgradCase | null> {
  return null;
}

/**
 * One training step (forward, softmax cross-entropy, backward, SGD lr 0.01) of the MLP
 * 784-256-256-10 with relu, on a batch of `batch` samples already on `device`.
 */
export async function benchWebgradTraining(_batch: number, _device: GPUDevice): Promise<WebgradCase | null> {
  return null;
}
