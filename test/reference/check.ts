import { assert } from 'vitest';
import { Random } from '../../src/core/random.js';

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere, reporting the worst element; NaN fails. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol, rtol }: Tolerance,
  label: string,
): void {
  if (actual.length !== expected.length) {
    assert.fail(`${label}: length ${actual.length}, expected ${expected.length}`);
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    const bound = atol + rtol * Math.abs(expected[i]);
    // Negated so that NaN on either side fails; a NaN ranks worst of all.
    if (!(diff <= bound)) {
      const excess = Number.isNaN(diff) ? Infinity : diff / bound;
      if (worst < 0 || excess > worstExcess) [worst, worstExcess] = [i, excess];
    }
  }
  if (worst >= 0) {
    const [x, ref] = [actual[worst], expected[worst]];
    assert.fail(
      `${label}: element ${worst} is ${x}, expected ${ref} (|diff| ${Math.abs(x - ref)} > ` +
        `atol ${atol} + rtol ${rtol}·|ref| = ${atol + rtol * Math.abs(ref)})`,
    );
  }
}

/** n seeded uniforms in [−scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float64Array {
  const random = new Random(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * random.uniform() - 1) * scale;
  return out;
}
