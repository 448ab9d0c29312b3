/**
 * The `webgrad` command: `webgrad train` trains an MLP on a built-in dataset or a CSV file, in Node on the best
 * WebGPU adapter (SwiftShader where there is no GPU); `webgrad predict` and `webgrad evaluate` apply a saved
 * model to a CSV file (cli/apply.ts). See HELP in cli/help.ts for the flags.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { evaluateCommand, predictCommand } from './cli/apply.js';
import { DataError, type Prepared, prepareData } from './cli/datasets.js';
import { checkGradientsBeforeTraining } from './cli/gradcheck.js';
import { HELP } from './cli/help.js';
import { parseCommand, type TrainArgs, UsageError } from './cli/options.js';
import { planRun, type RunPlan } from './cli/plan.js';
import { createReporter, type EpochScores, type FinalResult, type Reporter, type ReportMode } from './cli/report.js';
import { fromFile, type Part } from './cli/tables.js';
import { regressionMetrics } from './data/metrics.js';
import { targetValues } from './data/preprocess.js';
import { createEngine, type EpochInfo, type Engine, type Loss, type Mlp, type OneHotColumn, oneHot } from './node.js';

/** Runs the command line `argv` (without node and the script) and resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let command: ReturnType<typeof parseCommand>;
  try {
    command = parseCommand(argv, process.stdout.isTTY === true);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`webgrad: ${error.message}\nRun webgrad --help for the options.\n`);
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command.kind === 'version') {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`webgrad ${pkg.version}\n`);
    return 0;
  }
  try {
    if (command.kind === 'train') return await train(command.args);
    return await (command.kind === 'predict' ? predictCommand : evaluateCommand)(command.args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`webgrad: ${error.message}\nRun webgrad --help for the options.\n`);
      return 2;
    }
    const message = error instanceof DataError ? error.message : error instanceof Error ? error.stack : String(error);
    process.stderr.write(`webgrad: ${message}\n`);
    return 1;
  }
}

async function train(args: TrainArgs): Promise<number> {
  const started = performance.now();
  const data = await prepareData(args);
  const plan = planRun(args, data);
  const mode: ReportMode = args.json ? 'json' : args.progress ? 'bars' : 'plain';
  const stepsPerEpoch = Math.ceil(data.train.n / plan.batchSize);
  const report = createReporter(mode, plan.epochs, stepsPerEpoch);

  const engine = await createEngine();
  // Ctrl-C stops between steps and still reports (and saves) what was learnt; a second one quits at once.
  const controller = new AbortController();
  const onInterrupt = () => {
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onInterrupt);
  try {
    const { sizes, activations, loss, init } = plan;
    const model = engine.mlp({ sizes, activations, loss, init, seed: args.seed });
    // Checked against the model: a name too long for a model file is the data's fault, reported without a stack.
    const preprocessing = data.preprocessing;
    if (preprocessing) fromFile(args.dataset, () => (model.preprocessing = preprocessing));
    // --json keeps stdout for JSON lines; a row left out is still worth a line on stderr.
    const note = args.json ? (text: string) => process.stderr.write(`webgrad: ${text}\n`) : report.info;
    describeRun({ info: report.info, note }, data, plan, model, engine);
    if (args.checkGradients) {
      const train = trainingTargets(data.train, plan.loss, data.outputs);
      const print = args.json ? (line: string) => process.stdout.write(`${line}\n`) : report.info;
      if (!(await checkGradientsBeforeTraining(model, train, args.json, print))) return 1;
    }
    noteIfSlow(report.info, engine, model.flopsPerSample * data.train.n * plan.epochs);
    const aborted = await fitAndTest(model, data, plan, args.seed, report, controller.signal);
    if (args.out) await saveModel(model, args.out, report.info);
    report.info(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return aborted ? 130 : 0;
  } finally {
    report.close();
    process.removeListener('SIGINT', onInterrupt);
    // dawn.node keeps the process alive until the device is gone.
    engine.destroy();
  }
}

/** Trains the model as planned, reports its result on the test set, and resolves with whether it was stopped. */
async function fitAndTest(
  model: Mlp,
  data: Prepared,
  plan: RunPlan,
  seed: number,
  report: Reporter,
  signal: AbortSignal,
): Promise<boolean> {
  const targets = (ds: Part) => trainingTargets(ds, plan.loss, data.outputs);
  const val = data.val ? targets(data.val) : undefined;
  const scores = data.task === 'regression' ? regressionScores(model, data) : null;
  const fitStart = performance.now();
  const history = await model.fit(targets(data.train), {
    epochs: plan.epochs,
    batchSize: plan.batchSize,
    seed,
    optimizer: plan.optimizer,
    schedule: plan.schedule,
    validation: val,
    earlyStopping: val && plan.patience > 0 ? { patience: plan.patience, restoreBest: true } : undefined,
    signal,
    onStep: report.step,
    onEpoch: scores ? async (e) => report.epoch(e, await scores(e)) : report.epoch,
  });
  const seconds = (performance.now() - fitStart) / 1000;
  const testSet = targets(data.test);
  const test = await model.evaluate(testSet.x, testSet.y, { inputScale: testSet.inputScale });
  const trained = history.epochs.reduce((n, e) => n + e.samplesPerSec * e.seconds, 0);
  const samplesPerSec = trained / Math.max(seconds, 1e-9);
  const result: FinalResult = {
    testLoss: test.loss,
    testSamples: data.test.n,
    seconds,
    samplesPerSec,
    gflops: (samplesPerSec * model.flopsPerSample) / 1e9,
    aborted: history.aborted,
  };
  if (scores) {
    const s = await partScores(model, data, data.test);
    Object.assign(result, { testRmse: s.rmse, testMae: s.mae, testR2: s.r2 });
  } else result.testAccuracy = test.accuracy;
  if (history.bestEpoch !== undefined) {
    result.stoppedEarly = history.stoppedEarly;
    result.bestEpoch = history.bestEpoch + 1;
    describeStop(report.info, history.epochs.length, history.bestEpoch, history.stoppedEarly === true);
  }
  if (data.preprocessing) {
    result.task = data.task;
    if (data.preprocessing.classes) result.classes = data.preprocessing.classes;
  }
  report.final(result);
  return history.aborted;
}

function describeStop(info: (text: string) => void, epochs: number, best: number, stopped: boolean): void {
  const why = stopped
    ? `stopped after epoch ${epochs}: no better validation loss for the last ${epochs - best - 1}`
    : `ran all ${epochs} epochs`;
  info(`early stopping: ${why}; the model keeps epoch ${best + 1}'s weights, which had the lowest validation loss`);
}

/** RMSE, MAE and R² of the model on some rows, in the targets' units. */
async function partScores(model: Mlp, data: Prepared, part: Part) {
  const out = await model.predict(part.x as Float32Array);
  return regressionMetrics(targetValues(data.preprocessing!, out), part.targets!, data.outputs);
}

/** After each epoch, regression scores on the training rows and (when there are any) on the validation rows. */
function regressionScores(model: Mlp, data: Prepared): (e: EpochInfo) => Promise<EpochScores> {
  return async () => {
    const train = await partScores(model, data, data.train);
    if (!data.val) return train;
    const val = await partScores(model, data, data.val);
    return { ...train, valRmse: val.rmse, valMae: val.mae, valR2: val.r2 };
  };
}

/** A dataset's inputs with the targets the loss takes: class indices for cross-entropy, else one-hot rows. */
function trainingTargets(ds: Part, loss: Loss, classes: number) {
  return {
    x: ds.x,
    y: loss === 'cross_entropy' || ds.y instanceof Float32Array ? ds.y : oneHot(ds.y, classes),
    inputScale: ds.inputScale,
  };
}

/** Warns that a run of `work` floating-point operations will take long on SwiftShader. */
function noteIfSlow(info: (text: string) => void, engine: Engine, work: number): void {
  if (engine.adapter.architecture === 'swiftshader' && work > 1e10) {
    info('note: SwiftShader runs on the CPU and is slow; --samples or --epochs make a shorter run');
  }
}

async function saveModel(model: Mlp, path: string, info: (text: string) => void): Promise<void> {
  const bytes = await model.save();
  await writeFile(path, bytes);
  info(`saved ${path} (${(bytes.length / 1024).toFixed(1)} KiB, safetensors)`);
}

/** `"colour" into 3 indicators (blue, green, red)`, the categories cut short when there are many. */
function describeOneHot({ column, categories }: OneHotColumn): string {
  const k = categories.length;
  const shown = k > 6 ? `${categories.slice(0, 5).join(', ')}, ...` : categories.join(', ');
  return `${JSON.stringify(column)} into ${k} indicator${k === 1 ? '' : 's'} (${shown})`;
}

/** Where describeRun writes: `info` for the run's description, `note` for what the user should not miss. */
interface Describe {
  info: (text: string) => void;
  note: (text: string) => void;
}

function describeRun({ info, note }: Describe, data: Prepared, plan: RunPlan, model: Mlp, engine: Engine): void {
  const n = (x: number) => x.toLocaleString('en-US');
  const o = plan.optimizer;
  const a = engine.adapter;
  const adapter = [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'unknown adapter';
  info(
    `webgrad: ${data.name}, ${n(data.train.n)} training / ${n(data.val?.n ?? 0)} validation / ` +
      `${n(data.test.n)} test samples`,
  );
  for (const text of data.notes ?? []) note(text);
  const p = data.preprocessing;
  if (p) {
    const labels = p.labels.map((l) => JSON.stringify(l)).join(', ');
    info(`task: ${p.task} of ${labels}, ${data.reason === 'given' ? 'as --task says' : `as ${data.reason}`}`);
    if (p.classes) info(`classes: ${p.classes.join(', ')}`);
    if (p.oneHot) info(`text columns one-hot encoded: ${p.oneHot.map(describeOneHot).join(', ')}`);
    if (p.fill) {
      const text = p.oneHot ? ' (text columns: the most frequent category)' : '';
      info(`missing cells filled with the training rows' ${p.impute}${text}`);
    }
  }
  info(
    `model ${plan.sizes.join('-')} (${plan.activations.join(', ')}), ${plan.loss}, ${n(model.parameterCount)} parameters`,
  );
  info(
    `${o.type} lr ${o.learningRate}, ${plan.schedule.type} schedule, batch ${n(plan.batchSize)}, ` +
      `${plan.epochs} epochs${plan.patience > 0 ? ` (early stopping, patience ${plan.patience})` : ''}, on ${adapter}`,
  );
}
