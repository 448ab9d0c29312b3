// The Node entry (src/node.ts) as a user's process sees it: nothing printed but webgrad's own words. Runs the
// built package (dist/, which npm test builds first) in a child process, so stderr is the process's whole stderr.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const entry = join(import.meta.dirname, '..', 'dist', 'node.js');
const script = `
const { createEngine } = await import(${JSON.stringify(entry)});
for (let i = 0; i < 2; i++) {
  const engine = await createEngine({ matmul: 'regular' });
  console.log(engine.adapter.architecture, engine.adapter.fallback || /swiftshader/i.test(engine.adapter.architecture));
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

  it('leaves the native messages alone with WEBGRAD_DEBUG set', () => {
    const r = run({ WEBGRAD_DEBUG: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\w/);
  });
});
