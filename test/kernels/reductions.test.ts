// shaders/bias_grad.wgsl and shaders/loss_reduce.wgsl against float64 sums.
// Tolerance: f32 summation of up to 1000 terms of size <= 1.
import { describe, expect, it } from 'vitest';
import { expectClose, randomArray } from '../reference/check.js';
import { useEngine } from '../gpu.js';
import { pad, roundUp, runKernel } from './harness.js';

const engine = await useEngine();
const tol = { atol: 1e-4, rtol: 1e-5 };

describe.each([1, 5, 1000])('bias_grad rows=%i', (rows) => {
  it('sums the batch, and accumulates', async () => {
    const cols = 7;
    const ld = roundUp(cols, 4);
    const dout = randomArray(rows * cols, 31);
    const ref = new Float64Array(ld);
    for (let m = 0; m < rows; m++) for (let n = 0; n < cols; n++) ref[n] += dout[m * cols + n];
    const prior = randomArray(ld, 32).map((v, i) => (i < cols ? v : 0));
    for (const accumulate of [0, 1]) {
      const [, db] = await runKernel(engine, 'bias_grad', {
        dims: [rows, ld / 4, accumulate],
        buffers: [pad(dout, rows, cols, ld), Float32Array.from(prior)],
        workgroups: [ld / 4],
      });
      expectClose(
        db,
        ref.map((v, i) => v + accumulate * prior[i]),
        tol,
        `db (accumulate ${accumulate})`,
      );
    }
  });
});

describe('loss_reduce', () => {
  it('writes (scale·Σ loss, hit_scale·Σ accuracy) into the step slot, and accumulates', async () => {
    const rows = 1000;
    const rowLoss = randomArray(2 * rows, 33);
    let sum = 0;
    let hits = 0;
    for (let i = 0; i < rows; i++) [sum, hits] = [sum + rowLoss[2 * i], hits + rowLoss[2 * i + 1]];
    const prior = new Float32Array(16).fill(0.25);
    for (const accumulate of [0, 1]) {
      const [, out] = await runKernel(engine, 'loss_reduce', {
        dims: [rows, { f32: 0.5 }, accumulate, { f32: 0.125 }],
        step: [{ f32: 0 }, { f32: 0 }, 3, 0],
        buffers: [Float32Array.from(rowLoss), prior],
        workgroups: [1],
      });
      expectClose([out[6], out[7]], [0.5 * sum + accumulate * 0.25, 0.125 * hits + accumulate * 0.25], tol, 'loss');
      expect(out[5]).toBe(0.25);
      expect(out[8]).toBe(0.25);
    }
  });
});
