// The Node entry (src/node.ts) as a user's process sees it: nothing printed but webgrad's own words. Runs the
// built package (dist/, which npm test builds first) in a child process, so stderr is the process's whole stderr.
// Also where it keeps kernel choices between processes (cacheFile, fileStore).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUTO_MARGIN, CPU_VARIANTS, pickVariant } from '../src/gpu/autotune.js';
import { cacheFile, fileStore } from '../src/node.js';

const entry = join(import.meta.dirname, '..', 'dist', 'node.js');
const script = `
const { createEngine } = await import(${JSON.stringify(entry)});
for (let i = 0; i < 2; i++) {
  const engine = await createEngine({ matmul: process.env.MATMUL ?? 'regular' });
  console.log(engine.adapter.architecture, engine.adapter.fallback || /swiftshader/i.test(engine.adapter.architecture));
  if (process.env.MATMUL) console.log(JSON.stringify([engine.matmul.name, engine.matmulTimings]));
  engine.destroy();
}`;

function run(env: Record<string, string | undefined>) {
  const clean = { ...process.env };
  for (const k of ['XDG_RUNTIME_DIR', 'VK_LOADER_DRIVERS_DISABLE', 'VK_ADD_DRIVER_FILES', 'VK_ICD_FILENAMES']) {
    delete clean[k];
  }
  const r = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...clean, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('createEngine from webgrad/node', () => {
  it('prints nothing that is not ours, and says once when it runs on the CPU', () => {
    const r = run({});
    expect(r.code, r.stderr).toBe(0);
    const onCpu = r.stdout.trim().split('\n')[0].endsWith('true');
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toEqual(
      onCpu ? [expect.stringMatching(/^webgrad: no GPU adapter found; running on \w+, on the CPU$/)] : [],
    );
  });

  it("keeps the kernel 'auto' timed on a CPU adapter between processes, in $WEBGRAD_CACHE_DIR/matmul.json", () => {
    const dir = mkdtempSync(join(tmpdir(), 'webgrad-cache-'));
    try {
      const first = run({ MATMUL: 'auto', WEBGRAD_CACHE_DIR: dir });
      expect(first.code, first.stderr).toBe(0);
      const [adapter, choice] = first.stdout.trim().split('\n');
      if (!adapter.endsWith('true')) return; // a GPU: timed in each process, nothing kept
      const [variant, timings] = JSON.parse(choice);
      const file = join(dir, 'matmul.json');
      expect(first.stderr).toContain(
        `webgrad: timing the matmul kernels subgroup, wide, regular on this adapter, once; the choice is kept in ${file}`,
      );
      const kept = JSON.parse(readFileSync(file, 'utf8'));
      expect(Object.values(kept)).toEqual([{ variant, timings }]);
      expect(variant).toBe(pickVariant(timings, CPU_VARIANTS, AUTO_MARGIN));
      // A second process takes the decision from the file: no timing, the same kernel and timings.
      const second = run({ MATMUL: 'auto', WEBGRAD_CACHE_DIR: dir });
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).not.toContain('timing');
      expect(second.stdout.trim().split('\n')[1]).toBe(choice);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves the native messages alone with WEBGRAD_DEBUG set', () => {
    const r = run({ WEBGRAD_DEBUG: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\w/);
  });
});

describe('fileStore and cacheFile', () => {
  it('finds the folder from WEBGRAD_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(cacheFile({ WEBGRAD_CACHE_DIR: '/a', XDG_CACHE_HOME: '/b' })).toBe('/a/matmul.json');
    expect(cacheFile({ XDG_CACHE_HOME: '/b' })).toBe('/b/webgrad/matmul.json');
    expect(cacheFile({})).toBe(join(homedir(), '.cache', 'webgrad', 'matmul.json'));
  });

  it('reads a missing or malformed file as empty, and adds each decision beside the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webgrad-store-'));
    try {
      const file = join(dir, 'deep', 'matmul.json');
      const store = fileStore(file);
      expect(await store.get('k')).toBeUndefined();
      await store.set('k', { variant: 'wide', timings: { wide: 2 } });
      await store.set('j', { variant: 'regular', timings: { regular: 3 } });
      expect(await store.get('k')).toEqual({ variant: 'wide', timings: { wide: 2 } });
      expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')))).toEqual(['k', 'j']);
      for (const text of ['{"k": ', '[1, 2]', 'null']) {
        writeFileSync(file, text);
        expect(await store.get('k')).toBeUndefined();
      }
      await store.set('k', { variant: 'wide', timings: { wide: 1 } });
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ k: { variant: 'wide', timings: { wide: 1 } } });
      expect(readdirSync(join(dir, 'deep'))).toEqual(['matmul.json']);
      // A folder that cannot be made (under a file): nothing kept, nothing thrown.
      const unwritable = fileStore(join(file, 'sub', 'matmul.json'));
      await unwritable.set('k', { variant: 'wide', timings: { wide: 1 } });
      expect(await unwritable.get('k')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
