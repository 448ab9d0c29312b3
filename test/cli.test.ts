// `webgrad train` as a user runs it: the built launcher in a child process (npm test builds dist/ first).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

function webgrad(...args: string[]): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/webgrad.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'webgrad-cli-'));

describe('webgrad train', () => {
  it('trains briefly on a 2-D set, one plain line per epoch when stdout is not a terminal', async () => {
    const run = await webgrad('train', '--dataset', 'moons', '--samples', '300', '--epochs', '2', '--batch-size', '16');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^epoch 1\/2 {2}loss \d\.\d{4} {2}acc [\d.]+%/m);
    expect(run.stdout).toMatch(/^epoch 2\/2 /m);
    expect(run.stdout).toMatch(/^test accuracy \d+\.\d\d% \(loss [\d.]+\) on 60 held-out samples/m);
    // No progress-bar escape codes in a pipe.
    expect(run.stdout).not.toContain('\u001b[');
  });

  it('prints one JSON object per line with --json, the held-out result last', async () => {
    const run = await webgrad('train', '--dataset', 'xor', '--samples', '300', '--epochs', '3', '--json');
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    lines.slice(0, 3).forEach((line, i) => {
      expect(line).toMatchObject({ epoch: i + 1 });
      for (const key of ['loss', 'accuracy', 'valLoss', 'valAccuracy', 'samplesPerSec']) {
        expect(line[key], key).toBeTypeOf('number');
      }
    });
    expect(lines[3].testAccuracy).toBeGreaterThanOrEqual(0);
    expect(lines[3].testAccuracy).toBeLessThanOrEqual(1);
  });

  it('reaches 95% held-out accuracy on the spiral with its defaults, in under a minute', async () => {
    const run = await webgrad('train', '--dataset', 'spiral', '--json');
    expect(run.code, run.stderr).toBe(0);
    const last = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    console.log(`spiral defaults: test accuracy ${last.testAccuracy}, ${run.seconds.toFixed(1)} s in all`);
    expect(last.testAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(run.seconds).toBeLessThan(60);
  });

  it('trains on a CSV file with a named label column and saves a safetensors file', async () => {
    const rows = ['a,kind,b'];
    for (let i = 0; i < 120; i++) rows.push(`${(i % 7) * 100},${i % 2 ? 'odd' : 'even'},${i % 2 ? 1.5 : -1.5}`);
    const csv = join(dir, 'parity.csv');
    writeFileSync(csv, rows.join('\n'));
    const out = join(dir, 'parity.safetensors');
    const run = await webgrad(
      'train',
      '--dataset',
      csv,
      '--label-column',
      'kind',
      '--sizes',
      '8',
      '--lr',
      '0.05',
      '--out',
      out,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('model 2-8-2');
    expect(run.stdout).toMatch(/^test accuracy 100\.00%/m);
    const bytes = readFileSync(out);
    // safetensors: an 8-byte little-endian header length, then that many bytes of JSON.
    const headerBytes = Number(bytes.readBigUInt64LE(0));
    expect(headerBytes).toBeGreaterThan(0);
    expect(8 + headerBytes).toBeLessThanOrEqual(bytes.length);
    const header = JSON.parse(bytes.subarray(8, 8 + headerBytes).toString('utf8'));
    expect(header['0.weight']).toMatchObject({ dtype: 'F32', shape: [8, 2] });
    expect(header['2.weight']).toMatchObject({ dtype: 'F32', shape: [2, 8] });
  });
});

describe('bad flags exit with code 2 and say what was expected', () => {
  it.each([
    [['train', '--bogus'], /unknown option --bogus/],
    [['train', '--epoch', '3'], /unknown option --epoch \(did you mean --epochs\?\)/],
    [['train', '--lr', 'fast'], /--lr: expected a number, got "fast"/],
    [['train', '--lr', '--epochs', '3'], /--lr expects a value, got another option/],
    [['train', '--json=yes'], /--json takes no value/],
    [['train', '--epochs', '1.5'], /--epochs: expected an integer >= 1, got "1.5"/],
    [['train', '--batch-size', '0'], /--batch-size: expected an integer >= 1, got "0"/],
    [
      ['train', '--dataset', 'spirals'],
      /--dataset: expected one of mnist, spiral, moons, circles, xor or a CSV file, got "spirals"/,
    ],
    [['train', '--activations', 'relu,swish'], /--activations: expected names from identity, relu.*, got "swish"/],
    [['train', '--optimizer', 'lion'], /--optimizer: expected one of sgd, adam, adamw, got "lion"/],
    [['train', '--dataset', 'moons', '--activations', 'relu,relu,softmax'], /output layer needs identity/],
    [['fit'], /unknown command "fit"; expected: train/],
  ])('%j', async (args, message) => {
    const run = await webgrad(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('webgrad --help');
  });

  it('--help explains every flag', async () => {
    const run = await webgrad('--help');
    expect(run.code).toBe(0);
    for (const flag of ['--dataset', '--label-column', '--sizes', '--activations', '--loss', '--optimizer', '--lr']) {
      expect(run.stdout).toContain(flag);
    }
    for (const flag of ['--batch-size', '--epochs', '--seed', '--out', '--json', '--help']) {
      expect(run.stdout).toContain(flag);
    }
  });
});
