// src/cli/defaults.ts: the command line's training defaults, which the demo page bundles too.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Defaults, defaultEpochs, MAX_TABLE_EPOCHS, TABLE_DEFAULTS } from '../../src/cli/defaults.js';

describe('defaultEpochs', () => {
  it('gives a table epochs for about 1,500 steps, 20 at least and 500 at most', () => {
    expect(TABLE_DEFAULTS.steps).toBe(1500);
    expect(defaultEpochs(TABLE_DEFAULTS, 320, 32)).toBe(150); // 10 steps an epoch
    expect(defaultEpochs(TABLE_DEFAULTS, 330, 32)).toBe(137); // 11 steps (the last one short)
    expect(defaultEpochs(TABLE_DEFAULTS, 100_000, 32)).toBe(TABLE_DEFAULTS.epochs);
    expect(defaultEpochs(TABLE_DEFAULTS, 10, 32)).toBe(MAX_TABLE_EPOCHS);
  });

  it('without a step budget, is the defaults own epochs', () => {
    const generated: Defaults = { ...TABLE_DEFAULTS, steps: undefined, epochs: 8 };
    expect(defaultEpochs(generated, 10, 32)).toBe(8);
  });

  it('imports nothing but types, so a page can bundle it', () => {
    const source = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'cli', 'defaults.ts'), 'utf8');
    const imports = [...source.matchAll(/^import .*$/gm)].map((m) => m[0]);
    expect(imports.every((line) => line.startsWith('import type '))).toBe(true);
  });
});
