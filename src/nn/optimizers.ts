import { describe } from '../core/errors.js';
import type { OptimizerOptions } from '../core/types.js';
import { type Dispatch, DispatchBuilder, grid } from '../gpu/dispatch.js';
import { dims } from '../gpu/kernels.js';
import type { Runtime } from '../gpu/runtime.js';

// vec4s each invocation of sgd.wgsl and adam.wgsl updates, striding by the grid. On SwiftShader an invocation
// costs more than a loop step: the update of 784-256-256-10 took about 2.0 ms with 16 a piece, 2.7 ms with one.
const VEC4S_PER_INVOCATION = 16;

/** The GPU buffers an optimizer updates. */
export interface ParameterBuffers {
  params: GPUBuffer;
  grads: GPUBuffer;
  /** The per-step uniform (learning rate, step number) read through a dynamic offset. */
  steps: GPUBuffer;
  /** Floats in params and grads (a multiple of 4). */
  floats: number;
}

/**
 * An optimizer's state buffers and its fused update: one dispatch over the flat parameter buffer (after one
 * more for the global gradient norm when clipping). State persists across fit() calls with the same options.
 */
export class Optimizer {
  readonly key: string;
  readonly dispatches: Dispatch[] = [];
  /** The state buffers (momentum, or Adam's m and v), for checkpoints. */
  readonly stateBuffers: GPUBuffer[] = [];
  private readonly owned: GPUBuffer[] = [];

  constructor(
    private readonly runtime: Runtime,
    buffers: ParameterBuffers,
    readonly options: OptimizerOptions,
    readonly clipNorm?: number,
  ) {
    validateOptimizer(options);
    this.key = optimizerKey(options, clipNorm);
    const count = buffers.floats / 4;
    const state = (label: string, kept = true) => {
      const b = runtime.createBuffer(
        label,
        buffers.floats * 4,
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      );
      this.owned.push(b);
      if (kept) this.stateBuffers.push(b);
      return b;
    };
    const clip = clipNorm !== undefined;
    const norm = clip ? state('grad-norm', false) : runtime.dummyRead;
    const builder = new DispatchBuilder(runtime);
    if (clip) builder.add(this.dispatches, 'grad_norm', {}, dims.grad_norm({ count }), [buffers.grads, norm], [1, 1]);
    const groups = grid(runtime, Math.ceil(count / VEC4S_PER_INVOCATION), 64);
    const maxNorm = clipNorm ?? 0;
    if (options.type === 'sgd') {
      const momentum = options.momentum ?? 0;
      const velocity = momentum > 0 ? state('velocity') : runtime.dummyWrite;
      builder.add(
        this.dispatches,
        'sgd',
        { MOMENTUM: Number(momentum > 0), NESTEROV: Number(options.nesterov ?? false), CLIP: Number(clip) },
        dims.sgd({ count, momentum, weightDecay: options.weightDecay ?? 0, maxNorm }),
        [buffers.steps, buffers.grads, buffers.params, velocity, norm],
        groups,
      );
    } else {
      const decoupled = options.type === 'adamw';
      builder.add(
        this.dispatches,
        'adam',
        { DECOUPLED: Number(decoupled), CLIP: Number(clip) },
        dims.adam({
          count,
          beta1: options.beta1 ?? 0.9,
          beta2: options.beta2 ?? 0.999,
          eps: options.eps ?? 1e-8,
          weightDecay: options.weightDecay ?? (decoupled ? 0.01 : 0),
          maxNorm,
        }),
        [buffers.steps, buffers.grads, buffers.params, state('adam-m'), state('adam-v'), norm],
        groups,
      );
    }
    this.owned.push(builder.build('optimizer-uniforms'));
  }

  release(): void {
    for (const b of this.owned) this.runtime.releaseBuffer(b);
    this.owned.length = 0;
  }
}

const OPTIMIZERS = ['sgd', 'adam', 'adamw'];

/**
 * Identifies an optimizer configuration by value: the same options in any key order (or with an explicit
 * undefined) give the same key, so resuming with equal options keeps the optimizer's state.
 */
export function optimizerKey(options: OptimizerOptions, clipNorm?: number): string {
  const entries = Object.entries(options).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([entries, clipNorm ?? null]);
}

/** Throws a TypeError/RangeError naming the field for optimizer options that cannot work. */
export function validateOptimizer(options: OptimizerOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`optimizer: expected { type, learningRate, ... }, got ${describe(options)}`);
  }
  if (!OPTIMIZERS.includes(options.type)) {
    throw new TypeError(`optimizer: type ${describe(options.type)} is not one of ${OPTIMIZERS.join(', ')}`);
  }
  const positive = (name: string, v: unknown, allowZero: boolean) => {
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
      throw new RangeError(
        `optimizer: ${name} must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${describe(v)}`,
      );
    }
  };
  positive('learningRate', options.learningRate, true);
  if (options.learningRate === undefined) throw new TypeError('optimizer: learningRate is required');
  positive('weightDecay', options.weightDecay, true);
  if (options.type === 'sgd') {
    positive('momentum', options.momentum, true);
    if (options.nesterov !== undefined && typeof options.nesterov !== 'boolean') {
      throw new TypeError(`optimizer: nesterov must be a boolean, got ${describe(options.nesterov)}`);
    }
    if (options.nesterov && !(options.momentum && options.momentum > 0)) {
      throw new RangeError('optimizer: nesterov needs momentum > 0');
    }
  } else {
    for (const name of ['beta1', 'beta2'] as const) {
      const v = options[name];
      if (v !== undefined && !(typeof v === 'number' && v >= 0 && v < 1)) {
        throw new RangeError(`optimizer: ${name} must be in [0, 1), got ${describe(v)}`);
      }
    }
    positive('eps', options.eps, false);
  }
}
