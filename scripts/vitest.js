// `vitest run` with the given arguments, and once more, alone, for a test file whose worker process died before
// its tests had finished. Without a GPU the tests run on SwiftShader inside Dawn's native addon, and a CI run
// has died that way ("Worker exited unexpectedly", no test failing, nothing printed by the process), which no
// test of ours can catch and which did not come back in dozens of runs here. Only that is run again: a failing
// test, an unhandled error of any other kind, or a file whose worker dies twice fails the run as before.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const vitest = join(createRequire(import.meta.url).resolve('vitest/package.json'), '..', 'vitest.mjs');
const CRASH = 'Worker exited unexpectedly';

/** Runs vitest, echoing its output; resolves with its exit code, its output and its JSON report (if any). */
function run(args) {
  const dir = mkdtempSync(join(tmpdir(), 'webgrad-vitest-'));
  const report = join(dir, 'report.json');
  const child = spawn(
    process.execPath,
    [vitest, 'run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    { stdio: ['inherit', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
    process.stdout.write(chunk);
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
    process.stderr.write(chunk);
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      let json = null;
      try {
        json = JSON.parse(readFileSync(report, 'utf8'));
      } catch {}
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: code ?? (signal ? 1 : 0), output, json });
    });
  });
}

/** The files whose worker died: some test neither passed, failed nor was skipped, and none failed. */
function diedIn(json) {
  const files = json?.testResults ?? [];
  if (files.some((f) => f.status === 'failed' || f.assertionResults.some((a) => a.status === 'failed'))) return [];
  return files.filter((f) => f.assertionResults.some((a) => a.status === 'pending')).map((f) => f.name);
}

/** How many unhandled errors vitest counted, and how many of them were a worker dying. */
function errorsIn(output) {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ANSI colour codes are what is taken out
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const errors = Number(/^\s*Errors\s+(\d+) errors?/m.exec(plain)?.[1] ?? 0);
  const crashes = plain.split(`Error: ${CRASH}`).length - 1;
  return { errors, crashes };
}

const first = await run(process.argv.slice(2));
if (first.code === 0) process.exit(0);
const died = diedIn(first.json);
const { errors, crashes } = errorsIn(first.output);
if (died.length === 0 || errors !== crashes || crashes !== died.length) process.exit(first.code);

const names = died.map((f) => relative(process.cwd(), f));
console.error(
  `\nscripts/vitest.js: the worker running ${names.join(', ')} exited unexpectedly; running it again, alone.\n`,
);
const again = await run(['--maxWorkers=1', ...names]);
console.error(
  again.code === 0
    ? `\nscripts/vitest.js: ${names.join(', ')} passed when run again; the first run's worker died (see above).`
    : `\nscripts/vitest.js: ${names.join(', ')} failed again.`,
);
process.exit(again.code);
