// shaders/softmax.wgsl and shaders/softmax_backward.wgsl (full Jacobian: s ⊙ (v − ⟨s, v⟩)) against the reference,
// with logits large enough to overflow a naive exp. Tolerance: f32 rounding over a row of N terms.
import { describe, it } from 'vitest';
import { activationBackward, softmaxRows } from '../reference/activations.js';
import { expectClose, randomArray } from '../reference/check.js';
import { useEngine } from '../gpu.js';
import { pad, roundUp, runKernel, unpad } from './harness.js';

const engine = await useEngine();

describe.each([
  [1, 1],
  [5, 3],
  [33, 7],
  [3, 257],
  [1000, 10],
])('softmax rows=%i cols=%i', (rows, cols) => {
  const ld = roundUp(cols, 4);
  const z = randomArray(rows * cols, 21, 100);
  const dout = randomArray(rows * cols, 22);
  const tol = { atol: 1e-6, rtol: 1e-5 };

  it('forward along each row', async () => {
    const [, out] = await runKernel(engine, 'softmax', {
      dims: [rows, cols, ld],
      buffers: [pad(z, rows, cols, ld), rows * ld],
      workgroups: [Math.ceil(rows / 64)],
    });
    expectClose(unpad(out, rows, cols, ld), softmaxRows(z, rows, cols), tol, 'softmax');
  });

  it('backward through the full Jacobian', async () => {
    const s = softmaxRows(z, rows, cols);
    const [, , dinp] = await runKernel(engine, 'softmax_backward', {
      dims: [rows, cols, ld],
      buffers: [pad(s, rows, cols, ld), pad(dout, rows, cols, ld), rows * ld],
      workgroups: [Math.ceil(rows / 64)],
    });
    expectClose(unpad(dinp, rows, cols, ld), activationBackward('softmax', z, dout, rows, cols), tol, 'dinp');
  });
});
