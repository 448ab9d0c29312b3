import type { MatmulTimings, MatmulVariantName } from './kernels.js';

/** A matmul decision as kept between processes or page loads: the variant and the timings behind it. */
export interface TunedMatmul {
  variant: MatmulVariantName;
  timings: MatmulTimings;
}

/**
 * Where decisions that are slow to make (timing matmul kernels on an adapter that compiles each pipeline in most
 * of a second) are kept beyond the life of one page or process. Keys (autotune.ts, storeKey) name the adapter,
 * the variants timed and their shader sources, so another adapter, another list or a changed kernel is timed
 * afresh. A store that cannot read or write behaves as an empty one: it never fails an engine.
 */
export interface TuningStore {
  get(key: string): Promise<TunedMatmul | undefined>;
  set(key: string, value: TunedMatmul): Promise<void>;
  /** Called before timing variants the store did not hold (where the wait should be explained). */
  willTime?(names: readonly MatmulVariantName[]): void;
}

/** A store that forgets everything: nothing is kept beyond the page or process. */
export const NO_STORE: TuningStore = {
  get: async () => undefined,
  set: async () => {},
};

/**
 * True for a stored value of the right shape: a variant among `names` with a timing, and for the others a
 * positive timing or none (a variant whose pipeline the driver rejected is not timed).
 */
export function isTunedMatmul(value: unknown, names: readonly MatmulVariantName[]): value is TunedMatmul {
  if (typeof value !== 'object' || value === null) return false;
  const { variant, timings } = value as Partial<TunedMatmul>;
  if (!variant || !names.includes(variant) || typeof timings !== 'object' || timings === null) return false;
  const times = timings as Record<string, unknown>;
  const ok = (ms: unknown) => typeof ms === 'number' && ms > 0;
  return ok(times[variant]) && names.every((name) => times[name] === undefined || ok(times[name]));
}

const DB = 'webgrad';
const TABLE = 'matmul';

/**
 * The browser's store: IndexedDB (in pages and in workers alike), in a database named 'webgrad' of this origin.
 * Where IndexedDB is missing or refuses (a private window, a sandboxed frame), nothing is kept.
 */
export function indexedDbStore(): TuningStore {
  if (typeof indexedDB === 'undefined') return NO_STORE;
  let db: Promise<IDBDatabase | null> | null = null;
  const open = () => {
    db ??= new Promise((resolve) => {
      try {
        const request = indexedDB.open(DB, 1);
        request.onupgradeneeded = () => request.result.createObjectStore(TABLE);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => resolve(null);
        request.onblocked = () => resolve(null);
      } catch {
        resolve(null);
      }
    });
    return db;
  };
  const run = async <T>(mode: IDBTransactionMode, op: (table: IDBObjectStore) => IDBRequest<T>) => {
    const base = await open();
    if (!base) return undefined;
    return new Promise<T | undefined>((resolve) => {
      try {
        const request = op(base.transaction(TABLE, mode).objectStore(TABLE));
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => resolve(undefined);
      } catch {
        resolve(undefined);
      }
    });
  };
  return {
    get: (key) => run('readonly', (table) => table.get(key)),
    set: async (key, value) => {
      await run('readwrite', (table) => table.put(value, key));
    },
  };
}
