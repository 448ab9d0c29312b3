// Helpers shared by the tests of src/data/.
import type { Dataset } from '../../src/data/index.js';

/** How many samples of each class a dataset holds. */
export function classCounts(ds: Dataset): number[] {
  const counts = new Array(ds.classes ?? 0).fill(0);
  for (const label of ds.y) counts[label]++;
  return counts;
}

/** Each sample's inputs as text, for comparing datasets row by row. */
export function rows(ds: Dataset): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < ds.n; i++) out.add(ds.x.subarray(i * ds.inputs, (i + 1) * ds.inputs).join(','));
  return out;
}
