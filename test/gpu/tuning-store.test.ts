// Where matmul decisions are kept between runs (src/gpu/tuning-store.ts): what counts as a stored decision, and
// the stores that keep nothing. The IndexedDB store is exercised in headless Chromium (test/browser.test.ts), the
// Node file store in test/node.test.ts.
import { describe, expect, it } from 'vitest';
import { indexedDbStore, isTunedMatmul, NO_STORE } from '../../src/gpu/tuning-store.js';

describe('isTunedMatmul', () => {
  it.each([
    [null, false],
    ['wide', false],
    [{ variant: 'wide' }, false],
    [{ variant: 'wide', timings: null }, false],
    [{ variant: 'fastest', timings: {} }, false],
    [{ variant: 'wide', timings: { wide: -1 } }, false],
    [{ variant: 'wide', timings: { wide: 0 } }, false],
    [{ variant: 'wide', timings: { wide: '3' } }, false],
    [{ variant: 'tiled', timings: { tiled: 3 } }, false],
    [{ variant: 'wide', timings: { regular: 3 } }, false],
    [{ variant: 'wide', timings: { wide: 3 } }, true],
    [{ variant: 'wide', timings: { wide: 3, regular: 4 } }, true],
  ])('%o is a decision among wide and regular: %s', (value, ok) => {
    expect(isTunedMatmul(value, ['wide', 'regular'])).toBe(ok);
  });
});

describe('stores that keep nothing', () => {
  it('NO_STORE holds nothing and takes anything', async () => {
    await NO_STORE.set('k', { variant: 'wide', timings: { wide: 1 } });
    expect(await NO_STORE.get('k')).toBeUndefined();
  });

  it('indexedDbStore() where there is no IndexedDB (Node) is NO_STORE', () => {
    expect(typeof indexedDB).toBe('undefined');
    expect(indexedDbStore()).toBe(NO_STORE);
  });
});
