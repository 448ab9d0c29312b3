// Layering of src/: a file imports only from its own layer or from layers below, with no circles, so the
// browser build never pulls Node-only code and low layers can be understood and tested without high ones.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, describe, expect, it } from 'vitest';

// Paths relative to src/, lowest layer first. Where patterns overlap the most specific one wins
// (a file name over a folder, a deeper folder over a shallower one), whatever the order here.
const LAYERS: readonly (readonly [layer: number, patterns: string[]])[] = [
  [0, ['core/**']],
  [1, ['gpu/**', 'io/**']],
  [2, ['data/**']],
  [3, ['nn/**']],
  [4, ['train/**']],
  [5, ['model.ts']],
  [6, ['engine.ts']],
  [7, ['api.ts']],
  [8, ['index.ts', 'node.ts']],
  [9, ['cli.ts', 'cli/**', 'worker/**']],
];
// Same layer, yet independent: gpu knows no files, io knows no GPU (the generated shaders are GPU).
const GPU = ['gpu/**'];
const IO = ['io/**'];
const CLI = ['cli.ts', 'cli/**'];
// The CLI is a client of the public entry points, so the internals can move without breaking it.
const CLI_MAY_IMPORT = [...CLI, 'node.ts', 'api.ts', 'data/**'];
// Everything else must stay loadable in a browser, so Node-only packages are confined to these files.
const NODE_ONLY = ['webgpu', 'cli-progress', 'mnist'];
const NODE_ONLY_ALLOWED: Record<string, (pkg: string) => boolean> = {
  'node.ts': (pkg) => pkg === 'webgpu' || isBuiltin(pkg),
  'data/mnist.ts': (pkg) => pkg === 'mnist' || isBuiltin(pkg),
};

type Rule = 'unassigned' | 'unresolved' | 'upward' | 'gpu-io' | 'cli' | 'node-only' | 'circle';
type Violation = { rule: Rule; text: string };

const matches = (path: string, pattern: string) =>
  pattern.endsWith('/**') ? path.startsWith(pattern.slice(0, -2)) : path === pattern;
const matchesAny = (path: string, patterns: string[]) => patterns.some((p) => matches(path, p));
const specificity = (p: string) => (p.endsWith('/**') ? p.length : Number.POSITIVE_INFINITY);
const layerOf = (path: string) =>
  LAYERS.flatMap(([layer, ps]) =>
    ps.filter((p) => matches(path, p)).map((p) => ({ layer, rank: specificity(p) })),
  ).sort((x, y) => y.rank - x.rank)[0]?.layer;
const isBuiltin = (pkg: string) => pkg.startsWith('node:') || builtinModules.includes(pkg);
const src = (path: string) => `src/${path}`;
const layerName = (path: string) => `layer ${layerOf(path) ?? 'unassigned'}`;

// Comments are blanked so that commented-out imports don't count; strings are matched first and kept as they
// are, since specifiers are strings and a '//' inside a string starts no comment.
const LEXEME = /('(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`)|\/\/[^\n]*|\/\*[\s\S]*?\*\//g;
const stripComments = (code: string) => code.replace(LEXEME, (m, str) => str ?? m.replace(/[^\n]/g, ' '));

// Static imports and re-exports, type-only and multi-line ones included (the clause before `from` holds
// only names, braces, commas, '*' and whitespace, so code never matches), side-effect imports, import('...').
const STATIC = /^\s*(?:import|export)\s+(?:[\w$*{}\s,]*?\s*from\s*)?['"]([^'"\n]+)['"]/gm;
const DYNAMIC = /\bimport\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g;
const specifiers = (code: string) =>
  [STATIC, DYNAMIC].flatMap((re) => [...stripComments(code).matchAll(re)].map((m) => m[1]));

function check(files: Map<string, string>): Violation[] {
  const found: Violation[] = [];
  const add = (rule: Rule, text: string) => found.push({ rule, text });
  const graph = new Map<string, string[]>();
  for (const [from, code] of files) {
    if (layerOf(from) === undefined) add('unassigned', `${src(from)} matches no pattern in LAYERS`);
    graph.set(from, []);
    for (const spec of specifiers(code)) {
      if (!spec.startsWith('.')) {
        const pkg = spec.startsWith('node:') ? spec : spec.split('/')[0];
        const allowed = matchesAny(from, CLI) || NODE_ONLY_ALLOWED[from]?.(pkg);
        if ((NODE_ONLY.includes(pkg) || isBuiltin(pkg)) && !allowed) add('node-only', `${src(from)} -> '${spec}'`);
        continue;
      }
      const base = posix.join(posix.dirname(from), spec).replace(/\.js$/, '');
      const to = [`${base}.ts`, `${base}/index.ts`].find((p) => files.has(p));
      if (to === undefined) {
        add('unresolved', `${src(from)} -> '${spec}' (no such .ts file in src/)`);
        continue;
      }
      graph.get(from)!.push(to);
      const [a, b] = [layerOf(from), layerOf(to)];
      const edge = `${src(from)} -> ${src(to)} (${layerName(from)} -> ${layerName(to)})`;
      if (a !== undefined && b !== undefined && b > a) add('upward', edge);
      const crosses = (x: string[], y: string[]) => matchesAny(from, x) && matchesAny(to, y);
      if (crosses(GPU, IO) || crosses(IO, GPU)) add('gpu-io', edge);
      if (matchesAny(from, CLI) && !matchesAny(to, CLI_MAY_IMPORT)) add('cli', edge);
    }
  }
  // The shortest loop back to each file: together they cover every circle, each an edge list one can cut.
  const loops = new Set([...graph.keys()].sort().map((f) => shortestLoop(graph, f).map(src).join(' -> ')));
  for (const loop of loops) if (loop) add('circle', loop);
  return found;
}

// Breadth-first from `start` back to it; [] when no import path returns.
function shortestLoop(graph: Map<string, string[]>, start: string): string[] {
  const prev = new Map<string, string>();
  for (const queue = [start]; queue.length > 0; ) {
    const v = queue.shift()!;
    for (const w of graph.get(v)!) {
      if (w === start) {
        const ring = [v];
        while (ring[0] !== start) ring.unshift(prev.get(ring[0])!);
        // Rotated to begin at its first file by name, so the same circle found from each of its files is one.
        const first = ring.indexOf([...ring].sort()[0]);
        const loop = [...ring.slice(first), ...ring.slice(0, first)];
        return [...loop, loop[0]];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [];
}

const root = fileURLToPath(new URL('../src/', import.meta.url));
const tree = new Map(
  readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((p) => p.split('\\').join('/'))
    .filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))
    .map((p) => [p, readFileSync(root + p, 'utf8')] as const),
);
const violations = check(tree);
const of = (rule: Rule, list = violations) => list.filter((v) => v.rule === rule).map((v) => v.text);

describe('architecture of src/', () => {
  it('checks itself on a fake tree', () => {
    const fake = check(
      new Map([
        ['core/up.ts', "import { Mlp } from '../model.js';\nimport { readFile } from 'node:fs';"],
        ['core/typed.ts', "import type { Engine } from '../engine.js';"],
        ['core/multi.ts', "import {\n  a,\n  b,\n} from '../nn/x.js';"],
        ['nn/x.ts', "// import { E } from '../engine.js';\nexport const a = '//', b = () => import('../train/t.js');"],
        ['train/t.ts', "export type { Engine } from '../engine.js';"],
        ['engine.ts', "import { Mlp } from './model.js';"],
        ['model.ts', "import { type Engine } from './engine.js';"],
      ]),
    );
    expect(of('upward', fake).sort()).toEqual([
      'src/core/multi.ts -> src/nn/x.ts (layer 0 -> layer 3)',
      'src/core/typed.ts -> src/engine.ts (layer 0 -> layer 6)',
      'src/core/up.ts -> src/model.ts (layer 0 -> layer 5)',
      'src/model.ts -> src/engine.ts (layer 5 -> layer 6)',
      'src/nn/x.ts -> src/train/t.ts (layer 3 -> layer 4)',
      'src/train/t.ts -> src/engine.ts (layer 4 -> layer 6)',
    ]);
    expect(of('circle', fake)).toEqual(['src/engine.ts -> src/model.ts -> src/engine.ts']);
    expect(of('node-only', fake)).toEqual(["src/core/up.ts -> 'node:fs'"]);
    expect(fake.filter((v) => !['upward', 'circle', 'node-only'].includes(v.rule))).toEqual([]);
  });

  const rules: [Rule, string][] = [
    ['unassigned', 'places every file of src/ in a layer (new folders go in LAYERS)'],
    ['unresolved', 'resolves every relative import to a file'],
    ['upward', 'imports only from the same layer or below'],
    ['gpu-io', 'keeps gpu/ and io/ independent of each other'],
    ['cli', 'lets the CLI import only cli files, node.ts, api.ts and data/'],
    ['node-only', 'keeps Node-only packages in node.ts, data/mnist.ts and the CLI'],
    ['circle', 'has no import circles'],
  ];
  for (const [rule, title] of rules) {
    it(title, () => {
      const found = of(rule);
      if (found.length > 0) assert.fail(`${found.length} ${rule} violation(s):\n    ${found.join('\n    ')}\n`);
    });
  }
});
