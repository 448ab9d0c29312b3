// shaders/loss.wgsl: per-row losses and ∂(mean loss)/∂Z_L (1/b folded in) against the reference, for every
// loss and target form, with logits of size 30 so a naive exp would overflow. Tolerance: f32 over a row.
import { describe, it } from 'vitest';
import type { Activation, Loss } from '../../src/core/types.js';
import { act, dact, softmaxRows } from '../reference/activations.js';
import { expectClose, randomArray } from '../reference/check.js';
import { lossGrad, lossValue, type RefTargets } from '../reference/losses.js';
import { useEngine } from '../gpu.js';
import { pad, roundUp, runKernel, unpad } from './harness.js';

const engine = await useEngine();
const ACT: Partial<Record<Activation, number>> = { identity: 0, sigmoid: 3, tanh: 4, softmax: 9 };

interface Case {
  label: string;
  loss: Loss;
  code: number;
  act: Activation;
  indices?: boolean;
}
const CASES: Case[] = [
  { label: 'cross_entropy, probabilities', loss: 'cross_entropy', code: 0, act: 'identity' },
  { label: 'cross_entropy, class indices', loss: 'cross_entropy', code: 1, act: 'identity', indices: true },
  { label: 'mse, identity', loss: 'mse', code: 2, act: 'identity' },
  { label: 'mse through sigmoid', loss: 'mse', code: 2, act: 'sigmoid' },
  { label: 'mse through tanh', loss: 'mse', code: 2, act: 'tanh' },
  { label: 'mse, softmax last (writes dL/dA)', loss: 'mse', code: 2, act: 'softmax' },
  { label: 'binary_cross_entropy', loss: 'binary_cross_entropy', code: 3, act: 'identity' },
];

/** Each row's accuracy as loss.wgsl defines it, from the math (on f32-rounded outputs, so saturated ties agree). */
function rowHits(loss: Loss, out64: Float64Array, y: RefTargets, b: number, n: number): number[] {
  const out = Float32Array.from(out64);
  const argmax = (a: ArrayLike<number>, r: number) => {
    let best = 0;
    for (let k = 1; k < n; k++) if (a[r * n + k] > a[r * n + best]) best = k;
    return best;
  };
  return Array.from({ length: b }, (_, r) => {
    if (y instanceof Uint32Array) return Number(argmax(out, r) === y[r]);
    if (loss === 'binary_cross_entropy') {
      let right = 0;
      for (let k = 0; k < n; k++) right += Number(out[r * n + k] > 0 === y[r * n + k] > 0.5);
      return right / n;
    }
    if (n === 1) return Number(Math.abs(out[r] - y[r]) < 0.5);
    return Number(argmax(out, r) === argmax(y, r));
  });
}

describe.each(CASES)('loss: $label', ({ loss, code, act: last, indices }) => {
  it.each([
    [1, 1],
    [5, 3],
    [1000, 10],
    [3, 257],
  ])('b=%i n=%i', async (b, n) => {
    const ld = roundUp(n, 4);
    const z = randomArray(b * n, 41, 30);
    const out = loss === 'mse' ? (last === 'softmax' ? softmaxRows(z, b, n) : z.map((v) => act(last, v))) : z;
    let y: RefTargets;
    if (indices) y = Uint32Array.from({ length: b }, (_, i) => (i * 7) % n);
    else if (loss === 'cross_entropy')
      y = Float32Array.from(randomArray(b * n, 42), (v) => Math.abs(v)); // Σy ≠ 1 on purpose
    else if (loss === 'binary_cross_entropy') y = Float32Array.from(randomArray(b * n, 43), (v) => (v + 1) / 2);
    else y = Float32Array.from(randomArray(b * n, 44));
    const elementMean = loss !== 'cross_entropy';
    const scale = elementMean ? 1 / (b * n) : 1 / b;
    const [, , , dz, rowLoss] = await runKernel(engine, 'loss', {
      constants: { LOSS: code, ACT: ACT[last] ?? 0 },
      dims: [b, n, ld, { f32: scale }],
      buffers: [pad(out, b, n, ld), y instanceof Uint32Array ? y : pad(y, b, n, ld), pad(z, b, n, ld), b * ld, 2 * b],
      workgroups: [Math.ceil(b / 64)],
    });
    const tol = { atol: 1e-6, rtol: 1e-5 };
    let ref = lossGrad(loss, out, y, b, n);
    if (loss === 'mse' && last !== 'softmax' && last !== 'identity') ref = ref.map((g, i) => g * dact(last, z[i]));
    expectClose(unpad(dz, b, n, ld), ref, { atol: tol.atol * scale, rtol: tol.rtol }, 'dz');
    let mean = 0;
    for (let i = 0; i < b; i++) mean += rowLoss[2 * i] * scale;
    expectClose([mean], [lossValue(loss, out, y, b, n)], { atol: 1e-5, rtol: 1e-5 }, 'loss');
    const hits = Array.from({ length: b }, (_, i) => rowLoss[2 * i + 1]);
    expectClose(hits, rowHits(loss, out, y, b, n), { atol: 1e-6, rtol: 0 }, 'accuracy');
  });
});
