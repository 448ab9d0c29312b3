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

  it('checks the gradients on training rows before training with --check-gradients', async () => {
    const args = ['train', '--dataset', 'moons', '--samples', '300', '--epochs', '1', '--sizes', '8'];
    const run = await webgrad(...args, '--check-gradients');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^gradient check on 64 training rows/m);
    expect(run.stdout).toMatch(/^ {4}1 {2}\d\.\de-\d+ {2,}\d\.\de-\d+$/m);
    expect(run.stdout).toMatch(/^ {4}2 /m);
    expect(run.stdout).toMatch(/worst relative error \d\.\de-\d+ \(tolerance 0\.001\), \d+ parameters checked.*: ok$/m);
    const json = await webgrad(...args, '--check-gradients', '--json');
    const first = JSON.parse(json.stdout.split('\n')[0]);
    expect(first.gradientCheck).toMatchObject({ ok: true, rows: 64, tolerance: 0.001 });
    expect(first.gradientCheck.layers).toHaveLength(2);
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
      '--epochs',
      '20',
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

/** The last line of a --json run, parsed. */
const final = (run: Run) => JSON.parse(run.stdout.trim().split('\n').at(-1)!);

describe('webgrad train on real tables, predict and evaluate', () => {
  it('fits a regressor to the diabetes table with the defaults, and predicts and scores with the saved model', async () => {
    const out = join(dir, 'diabetes.safetensors');
    const run = await webgrad('train', '--dataset', 'test/fixtures/diabetes.csv', '--no-progress', '--out', out);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^task: regression of "progression", as it holds 214 distinct integers/m);
    expect(run.stdout).toMatch(
      /^epoch +1\/\d+ {2}loss [\d.]+ {2}RMSE [\d.]+ {2}MAE [\d.]+ {2}R² -?[\d.]+ {2}val loss/m,
    );
    const r2 = Number(/^test RMSE [\d.]+, MAE [\d.]+, R² (-?[\d.]+)/m.exec(run.stdout)?.[1]);
    console.log(`diabetes defaults: test R² ${r2}, ${run.seconds.toFixed(1)} s`);
    expect(r2).toBeGreaterThanOrEqual(0.28);
    const rows = join(dir, 'rows.csv');
    writeFileSync(
      rows,
      'bmi,age,sex,bp,s1,s2,s3,s4,s5,s6,id\n32.1,59,2,101,157,93.2,38,4,4.8598,87,a\n21.6,48,1,87,183,103.2,70,3,3.8918,69,b\n',
    );
    const predicted = await webgrad('predict', '--model', out, '--dataset', rows, '--json');
    expect(predicted.code, predicted.stderr).toBe(0);
    const lines = predicted.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.line)).toEqual([2, 3]);
    // The first row (a progression of 151) should come out well above the second (75).
    expect(lines[0].prediction).toBeGreaterThan(lines[1].prediction);
    const scored = await webgrad('evaluate', '--model', out, '--dataset', 'test/fixtures/diabetes.csv', '--json');
    expect(scored.code, scored.stderr).toBe(0);
    expect(final(scored)).toMatchObject({ testSamples: 442, testR2: expect.any(Number), testRmse: expect.any(Number) });
  });

  it('classifies the breast cancer table with the defaults, its string labels mapped and reported', async () => {
    const run = await webgrad('train', '--dataset', 'test/fixtures/breast_cancer.csv', '--json');
    expect(run.code, run.stderr).toBe(0);
    const last = final(run);
    console.log(`breast cancer defaults: test accuracy ${last.testAccuracy}, ${run.seconds.toFixed(1)} s`);
    expect(last).toMatchObject({ task: 'classification', classes: ['benign', 'malignant'] });
    expect(last.testAccuracy).toBeGreaterThanOrEqual(0.93);
    expect(last.bestEpoch).toBeGreaterThan(0);
  });

  it('trains on a messy file: semicolons, decimal commas, quoted text, NA filled, a test file, no validation', async () => {
    const rows = ['"size; m";weight;colour;kind'];
    for (let i = 0; i < 40; i++) {
      const w = i % 9 === 3 ? 'NA' : `${(i % 5) + 0.5}`.replace('.', ',');
      rows.push(`${i % 2 ? '2,5' : '-1,5'};${w};${i % 3};"${i % 2 ? 'big; heavy' : 'small'}"`);
    }
    const csv = join(dir, 'messy.csv');
    writeFileSync(csv, rows.join('\n'));
    const run = await webgrad(
      'train',
      '--dataset',
      csv,
      '--impute',
      'median',
      '--test-file',
      csv,
      '--validation-fraction',
      '0',
      '--epochs',
      '30',
      '--lr',
      '0.05',
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(final(run)).toMatchObject({ testAccuracy: 1, testSamples: 40, classes: ['big; heavy', 'small'] });
    expect(final(run).bestEpoch).toBeUndefined();
    const refused = await webgrad('train', '--dataset', csv);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'messy.csv: CSV line 5, column 2 ("weight"): the feature is missing ("NA"); fill missing cells with --impute mean|median',
    );
    expect(refused.stderr).not.toMatch(/^\s+at /m);
  });

  it('leaves out rows without a label, saying how many, and still predicts every row', async () => {
    const rows = ['x,y'];
    for (let i = 0; i < 40; i++) rows.push(`${i % 2 ? 1 : -1},${i % 7 === 3 ? 'NA' : i % 2 ? 'pos' : 'neg'}`);
    const csv = join(dir, 'unlabelled.csv');
    writeFileSync(csv, rows.join('\n'));
    const out = join(dir, 'unlabelled.safetensors');
    const run = await webgrad('train', '--dataset', csv, '--sizes', '4', '--epochs', '2', '--out', out);
    expect(run.code, run.stderr).toBe(0);
    // 6 of the 40 rows have no label: 34 are left, 7 to test, 27 to train on (3 of them to validate).
    expect(run.stdout).toMatch(
      /^webgrad: unlabelled\.csv, 24 training \/ 3 validation \/ 7 test samples\n6 rows without a label were left out$/m,
    );
    const predicted = await webgrad('predict', '--model', out, '--dataset', csv, '--json');
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(predicted.stdout.trim().split('\n')).toHaveLength(40);
    // With --json, stdout is JSON only: the notice goes to stderr.
    const scored = await webgrad('evaluate', '--model', out, '--dataset', csv, '--json');
    expect(scored.code, scored.stderr).toBe(0);
    expect(scored.stderr).toMatch(/^webgrad: unlabelled\.csv: 6 rows without a label were left out$/m);
    expect(final(scored).testSamples).toBe(34);
  });

  it('one-hot encodes a text column, saves its categories, and predicts a category it never saw', async () => {
    // warm for red and orange, cool for blue and green; red is the most frequent colour, and the rows
    // without a colour (filled with red) are warm too. Two rows have no label.
    const colours = ['red', 'blue', 'red', 'green', 'orange', 'red', 'blue', 'NA'];
    const rows = ['size,colour,kind'];
    for (let i = 0; i < 64; i++) {
      const colour = colours[i % 8];
      const kind = i === 9 || i === 30 ? '' : ['blue', 'green'].includes(colour) ? 'cool' : 'warm';
      rows.push(`${(i * 7) % 10},${colour},${kind}`);
    }
    const csv = join(dir, 'colours.csv');
    writeFileSync(csv, rows.join('\n'));
    const out = join(dir, 'colours.safetensors');
    const flags = ['--impute', 'mean', '--sizes', '8', '--lr', '0.05', '--epochs', '40', '--validation-fraction', '0'];
    const run = await webgrad('train', '--dataset', csv, ...flags, '--test-file', csv, '--out', out);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^2 rows without a label were left out$/m);
    expect(run.stdout).toMatch(/^colours\.csv: 2 rows without a label were left out$/m);
    expect(run.stdout).toMatch(
      /^text columns one-hot encoded: "colour" into 4 indicators \(blue, green, orange, red\)$/m,
    );
    expect(run.stdout).toMatch(/^missing cells filled with the training rows' mean \(text columns: the most frequent/m);
    expect(run.stdout).toContain('model 5-8-2');
    expect(run.stdout).toMatch(/^test accuracy 100\.00% \(loss [\d.]+\) on 62 held-out samples/m);
    const bytes = readFileSync(out);
    const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8'));
    const saved = JSON.parse(header.__metadata__.preprocessing);
    expect(saved.features).toEqual(['size', 'colour=blue', 'colour=green', 'colour=orange', 'colour=red']);
    expect(saved.oneHot).toEqual([{ column: 'colour', start: 1, categories: ['blue', 'green', 'orange', 'red'] }]);
    expect(saved.fill.slice(1)).toEqual([0, 0, 0, 1]);
    // The columns in another order; purple and teal were never seen, the fourth row has no colour.
    const fresh = join(dir, 'new-colours.csv');
    writeFileSync(fresh, 'colour,size\npurple,3\nteal,3\nred,3\nNA,3\nblue,3\ngreen,3\n');
    const predicted = await webgrad('predict', '--model', out, '--dataset', fresh, '--json');
    expect(predicted.code, predicted.stderr).toBe(0);
    const lines = predicted.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.prediction).slice(2)).toEqual(['warm', 'warm', 'cool', 'cool']);
    // Unknown categories are all zeros, so two of them give the same output; a missing one is the most frequent.
    expect(lines[1].probabilities).toEqual(lines[0].probabilities);
    expect(lines[3].probabilities).toEqual(lines[2].probabilities);
  });

  it('predicts with a PyTorch state_dict given --activations and --loss', async () => {
    const { encodeSafetensors } = await import('../src/io/safetensors.js');
    const model = join(dir, 'torch.safetensors');
    const tensors = [
      { name: '0.weight', shape: [2, 2], data: Float32Array.of(1, 0, 0, 1) },
      { name: '0.bias', shape: [2], data: Float32Array.of(0, 0) },
      { name: '2.weight', shape: [3, 2], data: Float32Array.of(1, 0, 0, 1, 0, 0) },
      { name: '2.bias', shape: [3], data: Float32Array.of(0, 0, 0) },
    ];
    writeFileSync(model, encodeSafetensors(tensors, { format: 'pt' }));
    const rows = join(dir, 'plain.csv');
    writeFileSync(rows, '3,1\n0,2\n');
    const run = await webgrad(
      'predict',
      '--model',
      model,
      '--dataset',
      rows,
      '--activations',
      'relu,identity',
      '--loss',
      'cross_entropy',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('output0,p_0,p_1,p_2');
    expect(
      run.stdout
        .split('\n')
        .slice(1, 3)
        .map((l) => l.split(',')[0]),
    ).toEqual(['0', '1']);
    const unnamed = await webgrad('predict', '--model', model, '--dataset', rows);
    expect(unnamed.code).toBe(1);
    expect(unnamed.stderr).toMatch(/loads with \{ activations, loss \} given/);
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
    [
      ['train', '--dataset', 'test/fixtures/iris.csv', '--task', 'clustering'],
      /--task: expected one of classification, regression/,
    ],
    [
      ['train', '--dataset', 'test/fixtures/iris.csv', '--validation-fraction', '1'],
      /--validation-fraction: expected a number in \[0, 1\)/,
    ],
    [
      ['train', '--dataset', 'test/fixtures/iris.csv', '--validation-fraction', '0', '--patience', '5'],
      /--patience watches the validation loss/,
    ],
    [['train', '--dataset', 'moons', '--impute', 'mean'], /--impute applies to CSV files only/],
    [['predict', '--dataset', 'test/fixtures/iris.csv'], /predict needs --model FILE/],
    [
      ['predict', '--model', 'test/fixtures/iris.csv', '--dataset', 'test/fixtures/iris.csv', '--epochs', '3'],
      /--epochs applies to train, not to predict/,
    ],
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
