import { SLOT_BYTES, writeStep } from '../gpu/kernels.js';
import type { Runtime } from '../gpu/runtime.js';

/** Passes (micro-batches or steps) whose per-step values can be queued for one submit. */
export const STEP_SLOTS = 256;
/** (loss, accuracy) pairs kept on the GPU. Slot 0 serves single calls; fit() cycles through the rest. */
export const LOSS_SLOTS = 1024;

/**
 * The per-step uniform values (learning rate, step number, loss slot, first row) of the passes recorded into
 * one submit: written on the CPU slot by slot while recording, uploaded once before the submit.
 */
export class StepValues {
  readonly buffer: GPUBuffer;
  private readonly data = new ArrayBuffer(STEP_SLOTS * SLOT_BYTES);
  private readonly words = new DataView(this.data);

  constructor(private readonly runtime: Runtime) {
    this.buffer = runtime.createBuffer(
      'steps',
      STEP_SLOTS * SLOT_BYTES,
      GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    );
  }

  set(slot: number, lr: number, t: number, lossSlot: number, start: number): void {
    writeStep(this.words, slot, { lr, t, lossSlot, start });
  }

  /** Uploads the values of slots [0, count). */
  flush(count: number): void {
    this.runtime.write(this.buffer, 0, new Uint8Array(this.data, 0, count * SLOT_BYTES));
  }
}
