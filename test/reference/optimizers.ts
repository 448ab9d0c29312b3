import type { OptimizerOptions } from '../../src/core/types.js';

/** SGD, Adam and AdamW over one flat parameter vector, with PyTorch's update rules and defaults. */
export class RefOptimizer {
  private readonly options: OptimizerOptions;
  private readonly buf: Float64Array;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;

  constructor(options: OptimizerOptions, paramCount: number) {
    this.options = options;
    this.buf = new Float64Array(paramCount);
    this.m = new Float64Array(paramCount);
    this.v = new Float64Array(paramCount);
  }

  /** One update of params in place; lr is the scheduled learning rate for this step. */
  step(params: Float64Array, grads: Float64Array, lr: number): void {
    if (params.length !== this.m.length || grads.length !== this.m.length) {
      throw new Error(`expected ${this.m.length} parameters and gradients`);
    }
    this.t++;
    const o = this.options;
    if (o.type === 'sgd') {
      const mu = o.momentum ?? 0;
      const wd = o.weightDecay ?? 0;
      for (let i = 0; i < params.length; i++) {
        let g = grads[i] + wd * params[i];
        if (mu !== 0) {
          // torch seeds the buffer with the first gradient, which equals μ·0 + g with dampening 0.
          this.buf[i] = mu * this.buf[i] + g;
          g = o.nesterov ? g + mu * this.buf[i] : this.buf[i];
        }
        params[i] -= lr * g;
      }
      return;
    }
    const beta1 = o.beta1 ?? 0.9;
    const beta2 = o.beta2 ?? 0.999;
    const eps = o.eps ?? 1e-8;
    const decoupled = o.type === 'adamw';
    const wd = o.weightDecay ?? (decoupled ? 0.01 : 0);
    const correction1 = 1 - beta1 ** this.t;
    const correction2 = 1 - beta2 ** this.t;
    for (let i = 0; i < params.length; i++) {
      let g = grads[i];
      if (decoupled) params[i] *= 1 - lr * wd;
      else g += wd * params[i];
      this.m[i] = beta1 * this.m[i] + (1 - beta1) * g;
      this.v[i] = beta2 * this.v[i] + (1 - beta2) * g * g;
      const mhat = this.m[i] / correction1;
      const vhat = this.v[i] / correction2;
      params[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
    }
  }
}

/** Scales grads in place so their global L2 norm is at most maxNorm, as torch.nn.utils.clip_grad_norm_. */
export function clipByGlobalNorm(grads: Float64Array, maxNorm: number): { norm: number; scale: number } {
  let sum = 0;
  for (const g of grads) sum += g * g;
  const norm = Math.sqrt(sum);
  const scale = Math.min(1, maxNorm / (norm + 1e-6));
  for (let i = 0; i < grads.length; i++) grads[i] *= scale;
  return { norm, scale };
}
