// shaders/gather.wgsl: a batch drawn by index from a GPU-resident dataset, from floats or packed bytes (rows on
// or off word boundaries), with float targets or class indices; pads must come out zero. Exact: gathering only
// copies and scales.
import { describe, expect, it } from 'vitest';
import { randomArray } from '../reference/check.js';
import { useEngine } from '../gpu.js';
import { runKernel } from './harness.js';

const engine = await useEngine();

describe('gather', () => {
  const n = 37;
  const inp = 5; // ld 8
  const out = 3; // ld 4
  const order = Uint32Array.from({ length: n }, (_, i) => (i * 11) % n);
  const start = 6;
  const rows = 9;

  it('gathers float rows and float targets, scaled', async () => {
    const x = Float32Array.from(randomArray(n * inp, 71));
    const y = Float32Array.from(randomArray(n * out, 72));
    const [, , , xb, yb] = await runKernel(engine, 'gather', {
      constants: { BYTES: 0, Y_INDICES: 0 },
      dims: [rows, inp, 8, out, 4, { f32: 2 }, 1], // two invocations a row, one vec4 each
      step: [{ f32: 0 }, { f32: 0 }, 0, start],
      buffers: [order, x, y, new Float32Array(rows * 8).fill(9), new Float32Array(rows * 4).fill(9)],
      workgroups: [1],
    });
    for (let r = 0; r < rows; r++) {
      const src = order[start + r];
      for (let c = 0; c < 8; c++) expect(xb[r * 8 + c]).toBe(c < inp ? Math.fround(2 * x[src * inp + c]) : 0);
      for (let c = 0; c < 4; c++) expect(yb[r * 4 + c]).toBe(c < out ? y[src * out + c] : 0);
    }
  });

  it('unpacks byte rows and copies class indices', async () => {
    const bytes = Uint8Array.from({ length: Math.ceil((n * inp) / 4) * 4 }, (_, i) => (i * 37) % 256);
    const words = new Uint32Array(bytes.buffer);
    const labels = Uint32Array.from({ length: n }, (_, i) => i % 10);
    const [, , , xb, yb] = await runKernel(engine, 'gather', {
      constants: { BYTES: 1, Y_INDICES: 1 },
      dims: [rows, inp, 8, 1, 1, { f32: 1 / 255 }, 3], // eight invocations a row, six with nothing to do
      step: [{ f32: 0 }, { f32: 0 }, 0, start],
      buffers: [order, words, labels, rows * 8, rows],
      workgroups: [2],
    });
    const yu = new Uint32Array(yb.buffer);
    for (let r = 0; r < rows; r++) {
      const src = order[start + r];
      for (let c = 0; c < inp; c++)
        expect(xb[r * 8 + c]).toBe(Math.fround(bytes[src * inp + c] * Math.fround(1 / 255)));
      expect(yu[r]).toBe(labels[src]);
    }
  });

  it('reads byte rows that start on word boundaries a word at a time, scaled exactly', async () => {
    const wide = 12; // a multiple of 4: every row starts on a word, four bytes per load
    const bytes = Uint8Array.from({ length: n * wide }, (_, i) => (i * 53 + 7) % 256);
    const y = Float32Array.from(randomArray(n * out, 73));
    const scale = 0.3;
    const [, , , xb, yb] = await runKernel(engine, 'gather', {
      constants: { BYTES: 1, Y_INDICES: 0 },
      dims: [rows, wide, wide, out, 4, { f32: scale }, 1], // two invocations a row: one takes two vec4s
      step: [{ f32: 0 }, { f32: 0 }, 0, start],
      buffers: [order, new Uint32Array(bytes.buffer), y, new Float32Array(rows * wide).fill(9), rows * 4],
      workgroups: [1],
    });
    for (let r = 0; r < rows; r++) {
      const src = order[start + r];
      for (let c = 0; c < wide; c++) {
        expect(xb[r * wide + c]).toBe(Math.fround(bytes[src * wide + c] * Math.fround(scale)));
      }
      for (let c = 0; c < 4; c++) expect(yb[r * 4 + c]).toBe(c < out ? y[src * out + c] : 0);
    }
  });
});
