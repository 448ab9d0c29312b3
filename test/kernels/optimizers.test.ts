// shaders/sgd.wgsl, shaders/adam.wgsl and shaders/grad_norm.wgsl against the float64 RefOptimizer (PyTorch's
// semantics) over several steps, with and without clipping. Tolerance: f32 rounding accumulated over 5 steps.
import { describe, it } from 'vitest';
import type { OptimizerOptions } from '../../src/core/types.js';
import { expectClose, randomArray } from '../reference/check.js';
import { clipByGlobalNorm, RefOptimizer } from '../reference/optimizers.js';
import { useEngine } from '../gpu.js';
import { runKernel } from './harness.js';

const engine = await useEngine();
const COUNT = 4 * 301;

const CASES: OptimizerOptions[] = [
  { type: 'sgd', learningRate: 0.1 },
  { type: 'sgd', learningRate: 0.1, weightDecay: 0.01 },
  { type: 'sgd', learningRate: 0.05, momentum: 0.9 },
  { type: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 },
  { type: 'adam', learningRate: 1e-2 },
  { type: 'adam', learningRate: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1 },
  { type: 'adamw', learningRate: 1e-2 },
  { type: 'adamw', learningRate: 3e-3, weightDecay: 0.5 },
];

describe.each([undefined, 0.5])('clipNorm %s', (clipNorm) => {
  it.each(CASES)('$type %o over 5 steps', async (options) => {
    const ref = new RefOptimizer(options, COUNT);
    const p64 = randomArray(COUNT, 51);
    let params = Float32Array.from(p64);
    let s1 = new Float32Array(COUNT);
    let s2 = new Float32Array(COUNT);
    for (let t = 1; t <= 5; t++) {
      const g64 = randomArray(COUNT, 60 + t, 0.1);
      const grads = Float32Array.from(g64);
      let norm = new Float32Array(4);
      if (clipNorm !== undefined) {
        [, norm] = await runKernel(engine, 'grad_norm', { dims: [COUNT / 4], buffers: [grads, norm], workgroups: [1] });
        const { norm: refNorm } = clipByGlobalNorm(g64, clipNorm);
        expectClose([Math.sqrt(norm[0])], [refNorm], { atol: 1e-6, rtol: 1e-5 }, 'global norm');
      }
      const lr = options.learningRate;
      ref.step(p64, g64, lr);
      const step = [{ f32: lr }, { f32: t }, 0, 0];
      // One workgroup strides through the buffer, five vec4s an invocation; enough groups take one each.
      const groups: [number] = [clipNorm === undefined ? 1 : Math.ceil(COUNT / 4 / 64)];
      const clip = Number(clipNorm !== undefined);
      if (options.type === 'sgd') {
        const momentum = options.momentum ?? 0;
        [, params, s1] = await runKernel(engine, 'sgd', {
          constants: { MOMENTUM: Number(momentum > 0), NESTEROV: Number(options.nesterov ?? false), CLIP: clip },
          dims: [COUNT / 4, { f32: momentum }, { f32: options.weightDecay ?? 0 }, { f32: clipNorm ?? 0 }],
          step,
          buffers: [grads, params, s1, norm],
          workgroups: groups,
        });
      } else {
        const decoupled = options.type === 'adamw';
        [, params, s1, s2] = await runKernel(engine, 'adam', {
          constants: { DECOUPLED: Number(decoupled), CLIP: clip },
          dims: [
            COUNT / 4,
            { f32: options.beta1 ?? 0.9 },
            { f32: options.beta2 ?? 0.999 },
            { f32: options.eps ?? 1e-8 },
            { f32: options.weightDecay ?? (decoupled ? 0.01 : 0) },
            { f32: clipNorm ?? 0 },
          ],
          step,
          buffers: [grads, params, s1, s2, norm],
          workgroups: groups,
        });
      }
      expectClose(params, p64, { atol: 1e-6, rtol: 1e-5 }, `params after step ${t}`);
    }
  });
});
