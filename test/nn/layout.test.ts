// Where an MLP's numbers live (src/nn/layout.ts): pure functions of the shape, checked without a GPU.
import { describe, expect, it } from 'vitest';
import { flopsPerSample, layout, packLayers, parameterCount, rowLimit, unpackLayers } from '../../src/nn/layout.js';

const { layers, floats } = layout([3, 5, 2], ['relu', 'identity']);
const params = layers.map((l, j) => ({
  weight: Float32Array.from({ length: l.out * l.inp }, (_, i) => j * 100 + i + 1),
  bias: Float32Array.from({ length: l.out }, (_, i) => -(j * 100 + i + 1)),
}));

describe('layout', () => {
  it('pads widths to 4 and starts every tensor on a 256-byte boundary, without overlap', () => {
    expect(layers.map((l) => [l.inp, l.out, l.ldIn, l.ldOut])).toEqual([
      [3, 5, 4, 8],
      [5, 2, 8, 4],
    ]);
    const spans = layers.flatMap((l) => [
      [l.wOffset, l.wOffset + l.ldOut * l.ldIn],
      [l.bOffset, l.bOffset + l.ldOut],
    ]);
    for (const [start] of spans) expect(start % 64).toBe(0);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    expect(floats % 64).toBe(0);
    expect(floats).toBeGreaterThanOrEqual(spans[spans.length - 1][1]);
    expect(parameterCount(layers)).toBe(3 * 5 + 5 + 5 * 2 + 2);
  });

  it('packs torch.nn.Linear layers with zero pads and unpacks them unchanged', () => {
    const flat = packLayers(layers, floats, params, 'test');
    const l0 = layers[0];
    // Row 1 of W0 starts at ldIn; its pad column (index 3) is zero.
    expect(Array.from(flat.subarray(l0.wOffset + l0.ldIn, l0.wOffset + 2 * l0.ldIn))).toEqual([4, 5, 6, 0]);
    expect(flat.subarray(l0.bOffset + 5, l0.bOffset + l0.ldOut).every((v) => v === 0)).toBe(true);
    expect(unpackLayers(layers, flat)).toEqual(params);
  });

  it('refuses layers of the wrong shape or with non-finite values, naming the layer', () => {
    expect(() => packLayers(layers, floats, params.slice(1), 'set')).toThrow(/expected an array of 2/);
    const short = [{ ...params[0], weight: new Float32Array(14) }, params[1]];
    expect(() => packLayers(layers, floats, short, 'set')).toThrow(/layer 0 weight must be .* 5x3 = 15 values/);
    const nan = [params[0], { ...params[1], bias: Float32Array.of(1, Number.NaN) }];
    expect(() => packLayers(layers, floats, nan, 'set')).toThrow(/layer 1 bias\[1\] is NaN/);
  });
});

describe('rowLimit', () => {
  const limits = {
    maxStorageBufferBindingSize: 1 << 20,
    maxBufferSize: 1 << 22,
    maxComputeWorkgroupsPerDimension: 65535,
  } as GPUSupportedLimits;
  it('is bound by the widest activation in one binding, by the grid, and by a request', () => {
    expect(rowLimit(layers, floats, limits, 64)).toBe((1 << 20) / (4 * 8));
    expect(rowLimit(layers, floats, { ...limits, maxComputeWorkgroupsPerDimension: 2 }, 64)).toBe(128);
    expect(rowLimit(layers, floats, limits, 64, 10)).toBe(10);
  });
  it('refuses parameters that cannot fit one binding', () => {
    const wide = layout([1000, 1000], ['identity']);
    expect(() => rowLimit(wide.layers, wide.floats, limits, 64)).toThrow(/need \d+ bytes in one binding/);
  });
});

it('flopsPerSample counts forward and both backward products: 6 · Σ in·out', () => {
  expect(flopsPerSample([784, 128, 10])).toBe(6 * (784 * 128 + 128 * 10));
});
