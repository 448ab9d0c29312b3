// shaders/activation.wgsl (through shaders/activations.wgsl, which the matmul epilogues share) against the
// float64 reference, at extremes where naive formulas overflow. Tolerance: f32 rounding of each formula.
import { describe, it } from 'vitest';
import type { Activation } from '../../src/core/types.js';
import { act, dact } from '../reference/activations.js';
import { expectClose, randomArray } from '../reference/check.js';
import { useEngine } from '../gpu.js';
import { pad, roundUp, runKernel, unpad } from './harness.js';

const engine = await useEngine();
const CODES: [Activation, number][] = [
  ['identity', 0],
  ['relu', 1],
  ['leaky_relu', 2],
  ['sigmoid', 3],
  ['tanh', 4],
  ['gelu', 5],
  ['softplus', 6],
  ['elu', 7],
  ['silu', 8],
];
const EXTREMES = [-90, -60, -20, -5, -1, -1e-3, 0, 1e-3, 0.5, 1, 3, 20, 60, 90];
const tol = { atol: 2e-6, rtol: 2e-6 };

describe.each(CODES)('activation %s', (name, code) => {
  const rows = 7;
  const cols = 5; // stored with ld 8: the pad lanes must come out zero
  const ld = roundUp(cols, 4);
  const z = randomArray(rows * cols, 11, 4);
  z.set(EXTREMES.slice(0, rows * cols));
  const dout = randomArray(rows * cols, 12);
  const dims = [rows, cols, ld / 4];

  it('forward: out = act(z)', async () => {
    const [, , out] = await runKernel(engine, 'activation', {
      constants: { ACT: code },
      entry: 'forward',
      dims,
      buffers: [pad(z, rows, cols, ld), 4, new Float32Array(rows * ld).fill(3)],
      workgroups: [1],
    });
    expectClose(
      unpad(out, rows, cols, ld),
      z.map((v) => act(name, v)),
      tol,
      `${name}(z)`,
    );
    expectClose(
      unpad(out, rows, ld, ld).filter((_, i) => i % ld >= cols),
      new Float64Array(rows * (ld - cols)),
      { atol: 0, rtol: 0 },
      'pads',
    );
  });

  it('backward: dinp = dout ⊙ act′(z)', async () => {
    const [, , dinp] = await runKernel(engine, 'activation', {
      constants: { ACT: code },
      entry: 'backward',
      dims,
      buffers: [pad(z, rows, cols, ld), pad(dout, rows, cols, ld), rows * ld],
      workgroups: [1],
    });
    expectClose(
      unpad(dinp, rows, cols, ld),
      z.map((v, i) => dout[i] * dact(name, v)),
      tol,
      `${name}'(z)`,
    );
  });
});
