import { UsageError } from './usage.js';

/** Parsers of flag values: each throws a UsageError that names the flag, what it expects and what came. */

export function optional<T>(raw: string | undefined, parse: (raw: string) => T): T | undefined {
  return raw === undefined ? undefined : parse(raw);
}

export function number(flag: string, raw: string): number {
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value)) throw new UsageError(`${flag}: expected a number, got "${raw}"`);
  return value;
}

export function positive(flag: string, raw: string): number {
  const value = number(flag, raw);
  if (!(value > 0)) throw new UsageError(`${flag}: expected a number > 0, got ${raw}`);
  return value;
}

export function nonNegative(flag: string, raw: string): number {
  const value = number(flag, raw);
  if (!(value >= 0)) throw new UsageError(`${flag}: expected a number >= 0, got ${raw}`);
  return value;
}

export function fraction(flag: string, raw: string): number {
  const value = number(flag, raw);
  if (!(value >= 0 && value < 1)) throw new UsageError(`${flag}: expected a number in [0, 1), got ${raw}`);
  return value;
}

export function integer(flag: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!/^\s*\+?\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${flag}: expected an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

export function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new UsageError(`${flag}: expected one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

export function list<T extends string>(flag: string, raw: string, allowed: readonly T[]): T[] {
  const items = raw.split(',').map((s) => s.trim());
  return items.map((item, i) => {
    if (!(allowed as readonly string[]).includes(item)) {
      const where = items.length > 1 ? ` (entry ${i + 1})` : '';
      throw new UsageError(`${flag}: expected names from ${allowed.join(', ')}, got "${item}"${where}`);
    }
    return item as T;
  });
}

export function sizes(raw: string): number[] {
  const items = raw.split(',').map((s) => s.trim());
  return items.map((item) => {
    if (!/^\d+$/.test(item) || Number(item) < 1) {
      throw new UsageError(`--sizes: expected comma-separated integers >= 1 (e.g. 784,128,10), got "${raw}"`);
    }
    return Number(item);
  });
}

export function column(raw: string): string | number {
  return /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
}

/** Columns by name or index, comma-separated: price,rent or -1. */
export function columns(raw: string): (string | number)[] {
  return raw.split(',').map((item) => column(item.trim()));
}
