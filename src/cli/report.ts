import cliProgress from 'cli-progress';
import type { EpochInfo, StepInfo } from '../api.js';

/** How a run reports: progress bars on a terminal, plain lines in logs, JSON lines for programs. */
export type ReportMode = 'bars' | 'plain' | 'json';

/** The held-out result that ends a run. */
export interface FinalResult {
  testLoss: number;
  testAccuracy: number;
  testSamples: number;
  /** Seconds spent in fit. */
  seconds: number;
  samplesPerSec: number;
  gflops: number;
  aborted: boolean;
}

/** Receives a run's events and prints them in one mode. */
export interface Reporter {
  info(text: string): void;
  step(info: StepInfo): void;
  epoch(info: EpochInfo): void;
  final(result: FinalResult): void;
  /** Leaves the terminal tidy when a run fails half-way. */
  close(): void;
}

const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;
const flops = (g: number) => (g >= 0.1 ? `${g.toFixed(2)} GFLOP/s` : `${Number((g * 1000).toPrecision(3))} MFLOP/s`);

const valText = (e: EpochInfo) =>
  e.valLoss === undefined ? '' : `  val loss ${e.valLoss.toFixed(4)}  val acc ${pct(e.valAccuracy ?? 0)}`;
const summary = (e: EpochInfo) =>
  `loss ${e.loss.toFixed(4)}  acc ${pct(e.accuracy)}${valText(e)}  ${count.format(e.samplesPerSec)} samples/s  ${e.seconds.toFixed(1)} s`;
const finalLine = (r: FinalResult) =>
  `${r.aborted ? 'stopped early; ' : ''}test accuracy ${pct(r.testAccuracy, 2)} (loss ${r.testLoss.toFixed(4)}) ` +
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
    epoch: (e) =>
      json({
        epoch: e.epoch + 1,
        loss: e.loss,
        accuracy: e.accuracy,
        valLoss: e.valLoss ?? null,
        valAccuracy: e.valAccuracy ?? null,
        samplesPerSec: e.samplesPerSec,
      }),
    final: (r) =>
      json({
        testLoss: r.testLoss,
        testAccuracy: r.testAccuracy,
        testSamples: r.testSamples,
        seconds: r.seconds,
        samplesPerSec: r.samplesPerSec,
        aborted: r.aborted,
      }),
    close: () => {},
  };
}

/** A line of text for each message, epoch and the final result. */
function plainReporter(line: Write, label: Label): Reporter {
  return {
    info: line,
    step: () => {},
    epoch: (e) => line(`${label(e.epoch)}  ${summary(e)}`),
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
    epoch: (e) => {
      if (e.epoch !== current) start(e.epoch);
      const extra =
        e.valLoss === undefined ? '' : ` | val loss ${e.valLoss.toFixed(4)} | val acc ${pct(e.valAccuracy ?? 0)}`;
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
