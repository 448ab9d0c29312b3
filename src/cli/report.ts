import cliProgress from 'cli-progress';
import type { EpochInfo, StepInfo } from '../api.js';

/** How a run reports: progress bars on a terminal, plain lines in logs, JSON lines for programs. */
export type ReportMode = 'bars' | 'plain' | 'json';

/** Regression scores after an epoch, in the targets' units: on the training rows, and on the validation rows. */
export interface EpochScores {
  rmse: number;
  mae: number;
  r2: number;
  valRmse?: number;
  valMae?: number;
  valR2?: number;
}

/** The held-out result that ends a run: accuracy for classification, RMSE, MAE and R² for regression. */
export interface FinalResult {
  testLoss: number;
  testAccuracy?: number;
  testRmse?: number;
  testMae?: number;
  testR2?: number;
  testSamples: number;
  /** Seconds spent in fit. */
  seconds: number;
  samplesPerSec: number;
  gflops: number;
  aborted: boolean;
  /** With early stopping: whether it ended the run, and the (1-based) epoch whose weights the model keeps. */
  stoppedEarly?: boolean;
  bestEpoch?: number;
  /** For a CSV file: the task and the classes. */
  task?: string;
  classes?: string[];
}

/** Receives a run's events and prints them in one mode. */
export interface Reporter {
  info(text: string): void;
  step(info: StepInfo): void;
  /** An epoch's results; `scores` for regression. */
  epoch(info: EpochInfo, scores?: EpochScores): void;
  final(result: FinalResult): void;
  /** Leaves the terminal tidy when a run fails half-way. */
  close(): void;
}

const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;
const flops = (g: number) => (g >= 0.1 ? `${g.toFixed(2)} GFLOP/s` : `${Number((g * 1000).toPrecision(3))} MFLOP/s`);

/** A value in the targets' units, to 4 significant digits. */
const units = (x: number) => String(Number(x.toPrecision(4)));
const scoreText = (rmse: number, mae: number, r2: number, prefix = '') =>
  `${prefix}RMSE ${units(rmse)}  ${prefix}MAE ${units(mae)}  ${prefix}R² ${r2.toFixed(3)}`;
const valText = (e: EpochInfo, s?: EpochScores) => {
  if (e.valLoss === undefined) return '';
  if (s?.valRmse === undefined) return `  val loss ${e.valLoss.toFixed(4)}  val acc ${pct(e.valAccuracy ?? 0)}`;
  return `  val loss ${e.valLoss.toFixed(4)}  ${scoreText(s.valRmse, s.valMae!, s.valR2!, 'val ')}`;
};
const summary = (e: EpochInfo, s?: EpochScores) =>
  `loss ${e.loss.toFixed(4)}  ${s ? scoreText(s.rmse, s.mae, s.r2) : `acc ${pct(e.accuracy)}`}${valText(e, s)}  ` +
  `${count.format(e.samplesPerSec)} samples/s  ${e.seconds.toFixed(1)} s`;
const testText = (r: FinalResult) =>
  r.testRmse !== undefined
    ? `test RMSE ${units(r.testRmse)}, MAE ${units(r.testMae!)}, R² ${r.testR2!.toFixed(3)} (loss ${r.testLoss.toFixed(4)})`
    : `test accuracy ${pct(r.testAccuracy ?? 0, 2)} (loss ${r.testLoss.toFixed(4)})`;
const finalLine = (r: FinalResult) =>
  `${r.aborted ? 'stopped early; ' : ''}${testText(r)} ` +
  `on ${count.format(r.testSamples)} held-out samples; trained in ${r.seconds.toFixed(1)} s ` +
  `(${count.format(r.samplesPerSec)} samples/s, ${flops(r.gflops)})`;

/** Writes one line of output. */
type Write = (text: string) => void;
/** Names an epoch for display: `epoch  3/10`, padded to the width of the epoch count. */
type Label = (epoch: number) => string;

/** Builds the reporter for a mode; `epochs` and `stepsPerEpoch` size the bars. */
export function createReporter(
  mode: ReportMode,
  epochs: number,
  stepsPerEpoch: number,
  out: NodeJS.WriteStream = process.stdout,
): Reporter {
  const line: Write = (text) => out.write(`${text}\n`);
  const width = String(epochs).length;
  const label: Label = (epoch) => `epoch ${String(epoch + 1).padStart(width)}/${epochs}`;
  if (mode === 'json') return jsonReporter(line);
  if (mode === 'plain') return plainReporter(line, label);
  return barReporter(out, line, label, stepsPerEpoch);
}

/** One JSON object a line for each epoch and for the final result; nothing else. */
function jsonReporter(line: Write): Reporter {
  const json = (value: object) => line(JSON.stringify(value));
  return {
    info: () => {},
    step: () => {},
    epoch: (e, s) => json(epochJson(e, s)),
    final: (r) => {
      const { gflops: _, ...rest } = r;
      json(rest);
    },
    close: () => {},
  };
}

/** An epoch's JSON object: the accuracies for classes, the regression scores when there are any. */
function epochJson(e: EpochInfo, s?: EpochScores): object {
  const head = { epoch: e.epoch + 1, loss: e.loss };
  if (!s) {
    return {
      ...head,
      accuracy: e.accuracy,
      valLoss: e.valLoss ?? null,
      valAccuracy: e.valAccuracy ?? null,
      samplesPerSec: e.samplesPerSec,
    };
  }
  return {
    ...head,
    rmse: s.rmse,
    mae: s.mae,
    r2: s.r2,
    valLoss: e.valLoss ?? null,
    valRmse: s.valRmse ?? null,
    valMae: s.valMae ?? null,
    valR2: s.valR2 ?? null,
    samplesPerSec: e.samplesPerSec,
  };
}

/** A line of text for each message, epoch and the final result. */
function plainReporter(line: Write, label: Label): Reporter {
  return {
    info: line,
    step: () => {},
    epoch: (e, s) => line(`${label(e.epoch)}  ${summary(e, s)}`),
    final: (r) => line(finalLine(r)),
    close: () => {},
  };
}

/** One bar per epoch, left on screen when the epoch ends with its validation result appended. */
function barReporter(out: NodeJS.WriteStream, line: Write, label: Label, stepsPerEpoch: number): Reporter {
  let bar: cliProgress.SingleBar | null = null;
  let current = -1;
  let lossSum = 0;
  let accSum = 0;
  let steps = 0;
  const start = (epoch: number) => {
    bar = createBar(out);
    current = epoch;
    lossSum = accSum = steps = 0;
    bar.start(stepsPerEpoch, 0, { label: label(epoch), loss: '-', acc: '-', speed: '-', extra: '' });
  };
  return {
    info: line,
    step: (s) => {
      if (s.epoch !== current) start(s.epoch);
      lossSum += s.loss;
      accSum += s.accuracy;
      steps++;
      bar?.increment(1, {
        loss: (lossSum / steps).toFixed(4),
        acc: pct(accSum / steps),
        speed: count.format(s.samplesPerSec),
      });
    },
    epoch: (e, s) => {
      if (e.epoch !== current) start(e.epoch);
      const extra = s ? ` | ${summary(e, s).split('  ').slice(1, -2).join(' | ')}` : barVal(e);
      bar?.update(stepsPerEpoch, {
        loss: e.loss.toFixed(4),
        acc: pct(e.accuracy),
        speed: count.format(e.samplesPerSec),
        extra,
      });
      bar?.stop();
      bar = null;
    },
    final: (r) => line(finalLine(r)),
    close: () => {
      bar?.stop();
      bar = null;
    },
  };
}

const barVal = (e: EpochInfo) =>
  e.valLoss === undefined ? '' : ` | val loss ${e.valLoss.toFixed(4)} | val acc ${pct(e.valAccuracy ?? 0)}`;

/** A bar for one epoch, counting steps; its payload carries the label, loss, accuracy, speed and extra text. */
function createBar(out: NodeJS.WriteStream): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    {
      format: `{label} {bar} {percentage}% | loss {loss} | acc {acc} | {speed} samples/s{extra}`,
      barCompleteChar: '\u2588',
      barIncompleteChar: '\u2591',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stream: out,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
}
