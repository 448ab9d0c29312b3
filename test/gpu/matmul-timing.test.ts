// Timing matmul variants on an engine's device (src/gpu/matmul-timing.ts): a positive time for each variant the
// device runs, and none for one whose pipeline the driver rejects.
import { afterAll, describe, expect, it } from 'vitest';
import { timeVariants } from '../../src/gpu/matmul-timing.js';
import { createEngine } from '../../src/node.js';
import { plainDevice } from '../gpu.js';

describe('timeVariants', () => {
  const engines: Awaited<ReturnType<typeof createEngine>>[] = [];
  afterAll(() => {
    for (const e of engines) e.destroy();
  });

  it('times each variant, and frees its operands', async () => {
    const engine = await createEngine({ matmul: 'regular' });
    engines.push(engine);
    const before = engine.memory().bytes;
    const timings = await timeVariants(engine, ['wide', 'regular']);
    expect(Object.keys(timings)).toEqual(['wide', 'regular']);
    for (const ms of Object.values(timings)) expect(ms).toBeGreaterThan(0);
    // The 256 x 256 operands are gone; a small mappable buffer that reads use may be kept for the next read.
    expect(engine.memory().bytes - before).toBeLessThan(256 * 256 * 4);
  });

  it('leaves out a variant whose pipeline the driver rejects', async () => {
    const device = await plainDevice();
    expect(device.features.has('subgroups')).toBe(false);
    const engine = await createEngine({ device, matmul: 'regular' });
    engines.push(engine);
    const timings = await timeVariants(engine, ['subgroup', 'regular']);
    expect(Object.keys(timings)).toEqual(['regular']);
  });
});
