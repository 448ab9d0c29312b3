// scripts/vitest.js: a file whose worker process died is run once more, alone; nothing else is run again.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = resolve('scripts/vitest.js');
const fixtures = resolve('test/fixtures/worker-death');
const dir = mkdtempSync(join(tmpdir(), 'webgrad-worker-death-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the script in the fixtures' folder; `name` keeps each case's first-run marker apart. */
function run(name: string, env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [script], {
    cwd: fixtures,
    env: { ...process.env, MARKER: join(dir, name), NO_COLOR: '1', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, output: result.stdout + result.stderr };
}

describe('scripts/vitest.js', () => {
  it('runs a file whose worker died once more, alone, and passes when it passes', () => {
    const { code, output } = run('once');
    expect(output).toMatch(/the worker running dies\.spec\.ts exited unexpectedly; running it again, alone/);
    expect(output).toMatch(/dies\.spec\.ts passed when run again/);
    expect(code).toBe(0);
  });

  it('fails when the worker dies again', () => {
    const { code, output } = run('always', { DIE: 'always' });
    expect(output).toMatch(/running it again, alone/);
    expect(output).toMatch(/dies\.spec\.ts failed again/);
    expect(code).toBe(1);
  });

  it('runs nothing again when a test failed, even beside a worker that died', () => {
    const { code, output } = run('failing', { FAIL: '1' });
    expect(output).toMatch(/Worker exited unexpectedly/);
    expect(output).not.toMatch(/running it again/);
    expect(code).toBe(1);
  });
});
