/**
 * The `webgrad` command: `webgrad train` trains an MLP on a built-in dataset or a CSV file, in Node on the best
 * WebGPU adapter (SwiftShader where there is no GPU). See HELP in cli/options.ts for the flags.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { DataError, type Prepared, prepareData } from './cli/datasets.js';
import { HELP, parseCommand, type TrainArgs, UsageError } from './cli/options.js';
import { createReporter, type Reporter, type ReportMode } from './cli/report.js';
import {
  type Activation,
  createEngine,
  type Dataset,
  type Engine,
  type Loss,
  type Mlp,
  type OptimizerOptions,
  oneHot,
  type ScheduleOptions,
} from './node.js';

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
    return await train(command.args);
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

/** The model, optimizer and schedule a run uses: the flags, else the dataset's defaults. */
interface RunPlan {
  sizes: number[];
  activations: Activation[];
  loss: Loss;
  optimizer: OptimizerOptions;
  schedule: ScheduleOptions;
  batchSize: number;
  epochs: number;
}

async function train(args: TrainArgs): Promise<number> {
  const started = performance.now();
  const data = await prepareData(args.dataset, args);
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
    const model = engine.mlp({ sizes: plan.sizes, activations: plan.activations, loss: plan.loss, seed: args.seed });
    describeRun(report.info, data, plan, model, engine);
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
  const targets = (ds: Dataset) => trainingTargets(ds, plan.loss, data.classes);
  const trainSet = targets(data.train);
  const fitStart = performance.now();
  const history = await model.fit(trainSet, {
    epochs: plan.epochs,
    batchSize: plan.batchSize,
    seed,
    optimizer: plan.optimizer,
    schedule: plan.schedule,
    validation: data.val ? targets(data.val) : undefined,
    signal,
    onStep: report.step,
    onEpoch: report.epoch,
  });
  const seconds = (performance.now() - fitStart) / 1000;
  const testSet = targets(data.test);
  const test = await model.evaluate(testSet.x, testSet.y, { inputScale: testSet.inputScale });
  const trained = history.epochs.reduce((n, e) => n + e.samplesPerSec * e.seconds, 0);
  const samplesPerSec = trained / Math.max(seconds, 1e-9);
  report.final({
    testLoss: test.loss,
    testAccuracy: test.accuracy,
    testSamples: data.test.n,
    seconds,
    samplesPerSec,
    gflops: (samplesPerSec * model.flopsPerSample) / 1e9,
    aborted: history.aborted,
  });
  return history.aborted;
}

/** A dataset's inputs with the targets the loss takes: class indices for cross-entropy, else one-hot rows. */
function trainingTargets(ds: Dataset, loss: Loss, classes: number) {
  return {
    x: ds.x,
    y: loss === 'cross_entropy' ? ds.y : oneHot(ds.y as Uint32Array, classes),
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

function planRun(args: TrainArgs, data: Prepared): RunPlan {
  const d = data.defaults;
  const sizes = resolveSizes(args.sizes, data.inputs, data.classes, d.hidden);
  const loss = args.loss ?? 'cross_entropy';
  const activations = resolveActivations(args.activations, sizes.length - 1, loss);
  const type = args.optimizer ?? 'adam';
  const learningRate = args.lr ?? (type === 'sgd' ? 0.1 : d.learningRate);
  const weightDecay = args.weightDecay ?? 0;
  const optimizer: OptimizerOptions =
    type === 'sgd'
      ? { type, learningRate, momentum: args.momentum ?? 0.9, weightDecay }
      : { type, learningRate, weightDecay };
  if (args.momentum !== undefined && type !== 'sgd') {
    throw new UsageError(`--momentum applies to --optimizer sgd, but the optimizer is ${type}`);
  }
  const name = args.schedule ?? 'cosine';
  const schedule: ScheduleOptions = name === 'constant' ? { type: name } : { type: name, minFactor: 0.02 };
  if (args.warmup > 0) schedule.warmupSteps = args.warmup;
  return {
    sizes,
    activations,
    loss,
    optimizer,
    schedule,
    batchSize: args.batchSize ?? d.batchSize,
    epochs: args.epochs ?? d.epochs,
  };
}

/** Full widths from --sizes: taken as given when they start and end with the data's sizes, else as hidden widths. */
function resolveSizes(given: number[] | undefined, inputs: number, outputs: number, hidden: number[]): number[] {
  if (!given) return [inputs, ...hidden, outputs];
  if (given.length >= 2 && given[0] === inputs && given[given.length - 1] === outputs) return given;
  return [inputs, ...given, outputs];
}

function resolveActivations(given: Activation[] | undefined, layers: number, loss: Loss): Activation[] {
  const hidden = layers - 1;
  let acts: Activation[];
  if (!given) acts = [...Array(hidden).fill('relu'), 'identity'];
  else if (given.length === layers) acts = given;
  else if (given.length === hidden) acts = [...given, 'identity'];
  else if (given.length === 1) acts = [...Array(hidden).fill(given[0]), 'identity'];
  else {
    throw new UsageError(
      `--activations: expected ${layers} names (one per layer) or ${hidden} (one per hidden layer), got ${given.length}`,
    );
  }
  const last = acts[layers - 1];
  if (loss !== 'mse' && last !== 'identity') {
    const fused = loss === 'cross_entropy' ? 'softmax' : 'sigmoid';
    throw new UsageError(
      `--activations: the ${loss} loss applies ${fused} itself, so the output layer needs identity, got ${last}`,
    );
  }
  return acts;
}

function describeRun(info: (text: string) => void, data: Prepared, plan: RunPlan, model: Mlp, engine: Engine): void {
  const n = (x: number) => x.toLocaleString('en-US');
  const o = plan.optimizer;
  const a = engine.adapter;
  const adapter = [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'unknown adapter';
  info(
    `webgrad: ${data.name}, ${n(data.train.n)} training / ${n(data.val?.n ?? 0)} validation / ` +
      `${n(data.test.n)} test samples`,
  );
  info(
    `model ${plan.sizes.join('-')} (${plan.activations.join(', ')}), ${plan.loss}, ${n(model.parameterCount)} parameters`,
  );
  info(
    `${o.type} lr ${o.learningRate}, ${plan.schedule.type} schedule, batch ${n(plan.batchSize)}, ` +
      `${plan.epochs} epochs, on ${adapter}`,
  );
}
