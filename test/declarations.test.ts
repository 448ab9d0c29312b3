// The published declarations (dist/, made by `npm run build`, which `npm test` runs first) show the documented
// API only: members marked @internal are stripped, so users cannot come to depend on them.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dist = join(import.meta.dirname, '..', 'dist');
const declarations = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? declarations(join(dir, e.name)) : e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );

describe('published declarations', () => {
  it('exist (npm run build)', () => {
    expect(existsSync(join(dist, 'index.d.ts')), 'dist/index.d.ts is missing: run npm run build').toBe(true);
  });

  it('carry no @internal member', () => {
    const marked = declarations(dist).filter((f) => readFileSync(f, 'utf8').includes('@internal'));
    expect(marked).toEqual([]);
  });

  it('show Mlp and Engine without their internals', () => {
    const model = readFileSync(join(dist, 'model.d.ts'), 'utf8');
    const runtime = readFileSync(join(dist, 'gpu', 'runtime.d.ts'), 'utf8');
    for (const name of ['network', 'restoreOptimizer', 'busy', 'fitting'])
      expect(model).not.toMatch(new RegExp(`\\b${name}\\b[?:(]`));
    for (const name of ['createBuffer', 'readBack', 'recoverDevice', 'adopt', 'pipelines', 'dummyRead', 'generation']) {
      expect(runtime).not.toMatch(new RegExp(`\\b${name}\\b[?:(]`));
    }
    for (const name of ['predict', 'fit', 'evaluate', 'save', 'dispose', 'flopsPerSample'])
      expect(model).toContain(name);
    for (const name of ['memory', 'finish', 'destroy', 'loseDevice', 'lost']) expect(runtime).toContain(name);
  });
});

describe('the API reference (docs/api, made by npm run docs)', () => {
  // Every name src/api.ts exports, as listed there one by one.
  const api = readFileSync(join(import.meta.dirname, '..', 'src', 'api.ts'), 'utf8');
  const names = [...api.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) =>
    m[1]
      .split(',')
      .map((n) => n.replace(/\btype\b/, '').trim())
      .filter(Boolean),
  );
  const pages = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? pages(join(dir, e.name)) : [e.name.replace(/\.md$/, '')],
    );

  it('has a page for every public name (run npm run docs after changing the API)', () => {
    const documented = new Set(pages(join(import.meta.dirname, '..', 'docs', 'api', 'index')));
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((n) => !documented.has(n))).toEqual([]);
  });
});
