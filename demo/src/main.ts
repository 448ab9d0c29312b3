// The demo page: pick a dataset and a network, train it on the GPU and watch it learn.
import '../style.css';
import type { EpochInfo, LayerParameters, Loss, OptimizerOptions, StepInfo } from '../../src/index.js';
import { decodeModel } from '../../src/io/model-file.js';
import { createTrainer, type Trainer } from '../../src/worker/trainer.js';
import { Curves } from './charts.js';
import { defaultEpochs, TABLE_DEFAULTS } from '../../src/cli/defaults.js';
import { CsvSource, DataError, NoTable, withPreprocessing } from './csv-source.js';
import { TableView } from './csv-view.js';
import { type DatasetName, type DemoData, makeData, rowsAsFloat } from './data.js';
import { describeDevice } from './device.js';
import { LayerEditor } from './layers.js';
import { EpochLog, pct, units } from './log.js';
import { type Architecture, datasetFor, describeModel, modelFileName, offerDownload } from './model-files.js';
import { buildGallery, DrawPad, GALLERY, labelGallery, showProbabilities } from './digits.js';
import { CPU_FORWARD_BUDGET, forward, forwardCost } from './forward.js';
import { classOneShare, drawRegions, gridInputs } from './regions.js';
import { type RunConfig, Session, type SessionState } from './session.js';
import { optimizerFor, scheduleFor, trainingNote } from './training.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

/** Settings each dataset starts from: they train well in a few seconds on a real GPU. */
const PRESETS: Record<DatasetName, { rows: number; hidden: number[]; lr: number; batch: number; epochs: number }> = {
  spiral: { rows: 2000, hidden: [64, 64, 64], lr: 0.02, batch: 64, epochs: 20 },
  moons: { rows: 1000, hidden: [32, 32], lr: 0.01, batch: 32, epochs: 10 },
  circles: { rows: 1000, hidden: [32, 32], lr: 0.01, batch: 32, epochs: 10 },
  xor: { rows: 1000, hidden: [32, 32], lr: 0.01, batch: 32, epochs: 10 },
  mnist: { rows: 7996, hidden: [128], lr: 0.001, batch: 64, epochs: 5 },
  // The epochs follow the file (see tableEpochs); the rows are the file's.
  csv: {
    rows: 0,
    hidden: TABLE_DEFAULTS.hidden,
    lr: TABLE_DEFAULTS.learningRate,
    batch: TABLE_DEFAULTS.batchSize,
    epochs: TABLE_DEFAULTS.epochs,
  },
};
const NOISE: Record<Exclude<DatasetName, 'mnist' | 'csv'>, number> = {
  spiral: 0.03,
  moons: 0.1,
  circles: 0.05,
  xor: 0,
};
const ROWS_2D = [250, 500, 1000, 2000, 8000, 32_768, 131_072];
const ROWS_MNIST = [500, 2000, 7996, 32_768, 65_536];
/** Optimizer steps below which a run whose epochs are only a few steps long is told it may not get far. */
const FEW_STEPS = 500;

const ui = {
  dataset: $<HTMLSelectElement>('dataset'),
  rows: $<HTMLSelectElement>('rows'),
  noise: $<HTMLInputElement>('noise'),
  layers: $('layers'),
  addLayer: $<HTMLButtonElement>('add-layer'),
  loss: $<HTMLSelectElement>('loss'),
  optimizer: $<HTMLSelectElement>('optimizer'),
  lr: $<HTMLInputElement>('lr'),
  schedule: $<HTMLSelectElement>('schedule'),
  warmup: $<HTMLInputElement>('warmup'),
  batch: $<HTMLInputElement>('batch'),
  passRows: $<HTMLSelectElement>('pass-rows'),
  epochs: $<HTMLInputElement>('epochs'),
  seed: $<HTMLInputElement>('seed'),
  start: $<HTMLButtonElement>('start'),
  pause: $<HTMLButtonElement>('pause'),
  reset: $<HTMLButtonElement>('reset'),
  download: $<HTMLButtonElement>('download'),
  load: $<HTMLInputElement>('load'),
  modelNote: $('model-note'),
  status: $('status'),
  regions: $<HTMLCanvasElement>('regions'),
  gallery: $('gallery'),
  probs: $('probs'),
};

/** The worker that holds the model and trains it (webgrad/worker): nothing of a fit runs on this thread. */
let trainer: Trainer | null = null;
let session: Session | null = null;
let data: DemoData | null = null;
/** What `data` was made from, so a rebuild that changes only the model keeps it. */
let dataKey = '';
/** Bumped by every rebuild, so a slow one (MNIST loading) that was overtaken is dropped. */
let generation = 0;
const curves = new Curves($('chart-loss'), $('chart-accuracy'));
const epochLog = new EpochLog($('epoch-head'), $('epoch-log'));
const layers = new LayerEditor(ui.layers, ui.addLayer, $('param-count'), () => settingsChanged());
const tableView = new TableView();
const csv = new CsvSource({
  changed(fresh) {
    if (fresh && ui.dataset.value !== 'csv') {
      ui.dataset.value = 'csv';
      applyPreset('csv');
    } else if (fresh) tableEpochs();
    settingsChanged();
  },
  dropped(file) {
    if (!trainer || locked()) {
      note(`${file.name} was not read: ${trainer ? 'pause and reset the run first' : 'nothing trains here'}.`, true);
      return;
    }
    if (/\.safetensors$/i.test(file.name)) void loadModel(file);
    else void csv.read(file);
  },
});
const live = { loss: Number.NaN, accuracy: Number.NaN, ema: [0, 0], emaSteps: 0, step: 0, x: 0, speed: 0 };
let statsDirty = false;
let view = { busy: false, last: 0, cost: 0, wanted: false };
let grid: Float32Array | null = null;
/** The gallery's test digits as predict takes them (MNIST), made once per dataset. */
let galleryInputs: Float32Array | null = null;
let padPixels: Float32Array | null = null;

// ---------------------------------------------------------------- settings

function batchSize(): number {
  return 2 ** Number(ui.batch.value);
}

/** The model's input and output widths, or null while they wait for a table's file. */
function modelEnds(): [number, number] | null {
  const name = ui.dataset.value;
  if (name === 'csv') return data?.name === 'csv' ? [data.inputs, data.classes] : null;
  return name === 'mnist' ? [784, 10] : [2, 2];
}

function renderLayers(): void {
  layers.render(modelEnds(), ui.loss.value, locked());
}

function fillRows(name: DatasetName, rows: number): void {
  const choices = name === 'mnist' ? ROWS_MNIST : ROWS_2D;
  ui.rows.innerHTML = choices
    .map((n) => {
      const note = name === 'mnist' ? (n === 7996 ? ' (all)' : n > 7996 ? ' (repeated)' : '') : '';
      return `<option value="${n}"${n === rows ? ' selected' : ''}>${n.toLocaleString('en-US')}${note}</option>`;
    })
    .join('');
}

function applyPreset(name: DatasetName): void {
  const p = PRESETS[name];
  if (name !== 'csv') fillRows(name, p.rows);
  layers.hidden = p.hidden.map((width) => ({ width, activation: 'relu' }));
  ui.lr.value = String(p.lr);
  ui.batch.value = String(Math.log2(p.batch));
  ui.epochs.value = String(p.epochs);
  if (name !== 'mnist' && name !== 'csv') ui.noise.value = String(NOISE[name]);
  if (name === 'csv') tablePreset();
  $('noise-field').hidden = name === 'mnist' || name === 'csv';
  ui.rows.closest<HTMLElement>('.field')!.hidden = name === 'csv';
  $('csv-fields').hidden = name !== 'csv';
  $('view-2d').hidden = name === 'mnist' || name === 'csv';
  $('view-mnist').hidden = name !== 'mnist';
  $('view-pad').hidden = name !== 'mnist';
}

/** The rest of `webgrad train`'s defaults for CSV files: Adam, cosine, no warmup, epochs for ~1,500 steps. */
function tablePreset(): void {
  ui.optimizer.value = 'adam';
  ui.schedule.value = 'cosine';
  ui.warmup.value = '0';
  ui.loss.value = 'cross_entropy';
  tableEpochs();
}

/** Epochs enough for about 1,500 steps (20 to 500), as `webgrad train` gives a CSV file. */
function tableEpochs(): void {
  const rows = csv.trainingRows();
  if (rows === 0) return;
  ui.epochs.value = String(defaultEpochs(TABLE_DEFAULTS, rows, batchSize()));
}

/** Regression trains with square loss only; the loss chosen before comes back for classification. */
let lossAside: string | null = null;
function fitLossToTask(regression: boolean): void {
  for (const option of ui.loss.options) option.disabled = regression && option.value !== 'mse';
  if (regression && ui.loss.value !== 'mse') {
    lossAside = ui.loss.value;
    ui.loss.value = 'mse';
  } else if (!regression && lossAside) {
    ui.loss.value = lossAside;
    lossAside = null;
  }
}

function readConfig(d: DemoData): RunConfig {
  const optimizer = optimizerFor(ui.optimizer.value as OptimizerOptions['type'], Number(ui.lr.value));
  const epochs = Math.max(1, Math.round(Number(ui.epochs.value)) || 1);
  const batch = batchSize();
  const total = Math.ceil(d.train.n / batch) * epochs;
  const warmup = Math.max(0, Math.round(Number(ui.warmup.value)) || 0);
  const schedule = scheduleFor(ui.schedule.value, total);
  if (warmup > 0) schedule.warmupSteps = warmup;
  const loss = ui.loss.value as Loss;
  return {
    data: d,
    sizes: layers.sizes(d.inputs, d.classes),
    activations: layers.activations(loss),
    loss,
    optimizer,
    schedule,
    batchSize: batch,
    microBatchSize: Number(ui.passRows.value) || undefined,
    epochs,
    seed: Math.max(0, Math.round(Number(ui.seed.value)) || 0),
    init: d.table ? 'torch' : undefined,
  };
}

function describeTraining(): void {
  const warmup = Math.round(Number(ui.warmup.value)) || 0;
  $('training-note').textContent = trainingNote(ui.optimizer.value, ui.schedule.value, warmup);
}

function describeBatch(): void {
  const b = batchSize();
  $('batch-value').textContent = b.toLocaleString('en-US');
  const rows = ui.dataset.value === 'csv' ? csv.trainingRows() : Number(ui.rows.value);
  if (rows === 0) {
    // A table's rows are known once its file is read.
    $('batch-note').textContent = '';
    $('steps-hint').hidden = true;
    return;
  }
  const model = session?.model;
  const perStep = Math.min(b, rows);
  const passes = model ? Math.ceil(perStep / model.maxRows) : 1;
  const steps = Math.ceil(rows / b);
  const parts = [`${steps.toLocaleString('en-US')} step${steps === 1 ? '' : 's'} per epoch`];
  if (b > rows) parts.push(`larger than the ${rows.toLocaleString('en-US')} rows: every step uses them all`);
  if (passes > 1) parts.push(`${passes} GPU passes per step, gradients summed`);
  $('batch-note').textContent = parts.join(' · ');
  describeSteps(steps);
}

/**
 * Warns when an epoch is only a few steps and the run too short to get far (at batch 65,536 on 131,072 rows,
 * 20 epochs are 40 steps), and offers enough epochs for FEW_STEPS steps.
 */
function describeSteps(perEpoch: number): void {
  const epochs = Math.max(1, Math.round(Number(ui.epochs.value)) || 1);
  const total = perEpoch * epochs;
  const few = perEpoch <= 8 && total < FEW_STEPS;
  $('steps-hint').hidden = !few;
  if (!few) return;
  const wanted = Math.ceil(FEW_STEPS / perEpoch);
  $('steps-hint-text').textContent =
    `Only ${perEpoch} step${perEpoch === 1 ? '' : 's'} per epoch: ${total.toLocaleString('en-US')} steps in all, ` +
    'too few for most networks to learn much. Train for more epochs, or try a larger learning rate.';
  const more = $<HTMLButtonElement>('more-epochs');
  more.textContent = `Use ${wanted.toLocaleString('en-US')} epochs (${(wanted * perEpoch).toLocaleString('en-US')} steps)`;
  more.dataset.epochs = String(wanted);
  more.disabled = locked();
}

// ---------------------------------------------------------------- session lifecycle

/** Settings are locked while a run is under way or paused; once it is done, changing one starts a fresh run. */
function locked(): boolean {
  return session !== null && (session.state === 'training' || session.state === 'paused');
}

function setStatus(text: string, state?: string): void {
  ui.status.textContent = text;
  if (state) document.body.dataset.state = state;
}

function updateButtons(): void {
  const state = session?.state ?? 'ready';
  ui.start.disabled = !trainer || !session || state === 'training' || state === 'paused';
  ui.start.textContent = state === 'done' || state === 'failed' ? 'Train again' : 'Start';
  ui.pause.disabled = !trainer || (state !== 'training' && state !== 'paused');
  ui.pause.textContent = state === 'paused' ? 'Resume' : 'Pause';
  ui.reset.disabled = !trainer || !session;
  const lock = locked();
  for (const el of settings()) el.disabled = lock;
  $<HTMLButtonElement>('more-epochs').disabled = lock;
  ui.download.disabled = !trainer || !session || state === 'training' || state === 'failed';
  ui.download.title = state === 'training' ? 'Pause to download the model as it is now' : '';
  ui.load.disabled = !trainer || lock;
  $('load-label').setAttribute('aria-disabled', String(ui.load.disabled));
  renderLayers();
}

/** The controls a run is made from (the layers' own are handled by renderLayers). */
function settings(): (HTMLInputElement | HTMLSelectElement)[] {
  return [
    ui.dataset,
    ui.rows,
    ui.noise,
    ui.loss,
    ui.optimizer,
    ui.lr,
    ui.schedule,
    ui.warmup,
    ui.batch,
    ui.passRows,
    ui.epochs,
    ui.seed,
    ...csv.controls(),
  ];
}

let rebuildTimer = 0;
function settingsChanged(): void {
  renderLayers();
  describeBatch();
  describeTraining();
  if (!trainer) return;
  // Marked at once, so nothing acts on the old model while the new one is being made.
  setStatus('Preparing…', 'loading');
  ui.start.disabled = true;
  clearTimeout(rebuildTimer);
  rebuildTimer = window.setTimeout(() => void rebuild(), 120);
}

/** A model file's parameters to start the next run from, and the file's name. */
interface Loaded {
  params: LayerParameters[];
  file: string;
}

/** The rebuild under way: the next one waits for it, as each replaces the worker's one model. */
let building: Promise<void> = Promise.resolve();

/**
 * Makes the data and a fresh model from the settings, untrained or with a loaded model's parameters, and draws
 * what it predicts. A rebuild overtaken by a later one before it began is dropped.
 */
function rebuild(loaded?: Loaded): Promise<void> {
  const mine = ++generation;
  const next = building.then(() => build(mine, loaded));
  building = next.catch(() => {});
  return next;
}

async function build(mine: number, loaded?: Loaded): Promise<void> {
  if (!trainer || mine !== generation) return;
  const name = ui.dataset.value as DatasetName;
  const rows = Number(ui.rows.value);
  const noise = Number(ui.noise.value);
  const seed = Math.max(0, Math.round(Number(ui.seed.value)) || 0);
  const old = session;
  session = null;
  updateButtons();
  await old?.dispose();
  resetDisplays();
  const key = name === 'csv' ? csv.key(seed) : name === 'mnist' ? `mnist:${rows}` : `${name}:${rows}:${noise}:${seed}`;
  setStatus(name === 'mnist' && data?.name !== 'mnist' ? 'Loading MNIST digits…' : 'Preparing…', 'loading');
  let d: DemoData;
  try {
    if (data && key === dataKey) d = data;
    else d = name === 'csv' ? csv.makeData(seed) : await makeData(name, rows, noise, seed);
  } catch (error) {
    if (mine !== generation) return;
    data = null;
    dataKey = '';
    showKind(null);
    fail(error as Error);
    return;
  }
  if (mine !== generation) return;
  data = d;
  dataKey = key;
  showKind(d);
  grid = d.extent ? gridInputs(d.extent) : null;
  galleryInputs = d.name === 'mnist' ? rowsAsFloat(d.val, 0, Math.min(GALLERY, d.val.n)) : null;
  // The data at once; the regions follow as soon as the model's predictions are in.
  if (d.extent) drawRegions(ui.regions, null, d.train, d.extent);
  if (d.name === 'mnist') buildGallery(ui.gallery, d.val);
  let next: Session;
  try {
    next = await Session.create(trainer, { ...readConfig(d), initial: loaded?.params }, events);
  } catch (error) {
    if (mine === generation) fail(error as Error);
    return;
  }
  // Overtaken meanwhile: the later rebuild replaces the worker's model in its turn.
  if (mine !== generation) return;
  session = next;
  describeBatch();
  updateButtons();
  $('rows-per-pass').textContent = session.model.maxRows.toLocaleString('en-US');
  const rowsText = `${d.train.n.toLocaleString('en-US')} training rows${d.table ? `, ${d.val.n.toLocaleString('en-US')} for validation` : ''}`;
  setStatus(`Ready: ${rowsText}. Press Start.`, 'ready');
  requestView();
  if (loaded) scoreLoaded(session, loaded.file);
}

function fail(error: Error): void {
  if (error instanceof NoTable) setStatus(error.message, 'no-data');
  else {
    // A file the library refuses is the file's fault, said in the page; anything else is the page's, logged too.
    if (!(error instanceof DataError)) console.error(error);
    setStatus(`Error: ${error.message}`, 'failed');
  }
  updateButtons();
}

/**
 * Sets the page up for the kind of data a run has: a table's task, loss and view; for regression, RMSE and R²
 * in place of accuracy. `d` null: no data (a file that could not be used).
 */
function showKind(d: DemoData | null): void {
  const regression = d?.table?.preprocessing.task === 'regression';
  if (d?.table) csv.describe(d.table);
  fitLossToTask(regression);
  epochLog.clear(regression);
  tableView.reset(d);
  for (const el of document.querySelectorAll<HTMLElement>('[data-regression]')) el.hidden = !regression;
  for (const el of document.querySelectorAll<HTMLElement>('[data-classification]')) el.hidden = regression;
}

/** Shows a table's validation scores from the model's outputs for its validation rows (and in an epoch's row). */
function showScores(out: Float32Array, row?: HTMLTableRowElement): void {
  const m = tableView.show(out);
  if (!m) return;
  setStat('stat-val-rmse', m.rmse, units(m.rmse));
  setStat('stat-val-r2', m.r2, m.r2.toFixed(3));
  if (row) epochLog.score(row, m);
}

const events = {
  step(info: StepInfo, x: number, globalStep: number) {
    // The charts count epochs in steps: a resumed run starts a fresh epoch, which would step back along x.
    const s = session;
    curves.addStep(s ? globalStep / s.stepsPerEpoch : x, info.loss, info.accuracy);
    // Bias-corrected moving average: single batches are noisy, the readout should not flicker.
    live.ema = [0.9 * live.ema[0] + 0.1 * info.loss, 0.9 * live.ema[1] + 0.1 * info.accuracy];
    live.emaSteps++;
    const correction = 1 - 0.9 ** live.emaSteps;
    live.loss = live.ema[0] / correction;
    live.accuracy = live.ema[1] / correction;
    live.step = globalStep;
    live.x = x;
    live.speed = info.samplesPerSec;
    statsDirty = true;
  },
  epoch(info: EpochInfo, epochsDone: number, complete: boolean) {
    if (info.valLoss !== undefined && complete) {
      const at = session ? session.stepsDone / session.stepsPerEpoch : epochsDone;
      curves.addValidation(at, info.valLoss, info.valAccuracy ?? 0);
    }
    const row = epochLog.add(info, epochsDone, complete);
    if (info.valLoss !== undefined) {
      setStat('stat-val-loss', info.valLoss, info.valLoss.toFixed(4));
      setStat('stat-val-accuracy', info.valAccuracy ?? 0, pct(info.valAccuracy ?? 0));
    }
    const s = session;
    if (s && data?.table) {
      // Predicted in the worker between the fit's next steps: the scores of the model a step or so later.
      s.predict(data.val.x as Float32Array)
        .then((out) => s === session && showScores(out, row))
        // A session replaced meanwhile refuses to predict; anything else is worth seeing.
        .catch((error) => s === session && console.error(error));
    } else requestView();
  },
  state(state: SessionState, error?: Error) {
    const s = session;
    if (!s) return;
    if (state === 'training') setStatus(`Training ${s.config.epochs} epochs…`, 'training');
    if (state === 'paused') setStatus(`Paused after step ${s.stepsDone.toLocaleString('en-US')}.`, 'paused');
    if (state === 'done')
      setStatus(`Done: ${s.config.epochs} epochs, ${s.stepsDone.toLocaleString('en-US')} steps.`, 'done');
    if (state === 'failed') fail(error ?? new Error('training failed'));
    updateButtons();
    if (state !== 'training') requestView();
  },
};

ui.start.addEventListener('click', async () => {
  if (!session) return;
  await scoring;
  if (session.state === 'done' || session.state === 'failed') {
    await rebuild();
    if (!session) return;
  }
  session.config.epochs = Math.max(1, Math.round(Number(ui.epochs.value)) || 1);
  void session.start();
});
ui.pause.addEventListener('click', () => {
  if (session?.state === 'training') void session.pause();
  else if (session?.state === 'paused') void session.start();
});
ui.reset.addEventListener('click', () => void rebuild());

for (const el of [ui.rows, ui.noise, ui.optimizer, ui.lr, ui.schedule, ui.warmup, ui.epochs, ui.seed, ui.passRows]) {
  el.addEventListener('change', settingsChanged);
}
ui.epochs.addEventListener('input', () => describeBatch());
$('more-epochs').addEventListener('click', (e) => {
  ui.epochs.value = (e.currentTarget as HTMLElement).dataset.epochs ?? ui.epochs.value;
  settingsChanged();
});
ui.loss.addEventListener('change', settingsChanged);
ui.batch.addEventListener('input', () => describeBatch());
ui.batch.addEventListener('change', settingsChanged);
ui.noise.addEventListener('input', () => {
  $('noise-value').textContent = Number(ui.noise.value).toFixed(2);
});
ui.dataset.addEventListener('change', () => {
  applyPreset(ui.dataset.value as DatasetName);
  $('noise-value').textContent = Number(ui.noise.value).toFixed(2);
  settingsChanged();
});

// ---------------------------------------------------------------- drawing

function setStat(id: string, value: number, text: string): void {
  const el = $(id);
  el.textContent = text;
  el.dataset.value = String(value);
}

function resetDisplays(): void {
  // Whatever the last run left unshown is dropped with it.
  statsDirty = false;
  curves.clear(Math.max(1, Math.round(Number(ui.epochs.value)) || 1));
  epochLog.clear();
  Object.assign(live, { loss: Number.NaN, accuracy: Number.NaN, ema: [0, 0], emaSteps: 0, step: 0, x: 0, speed: 0 });
  const ids = ['stat-epoch', 'stat-step', 'stat-loss', 'stat-accuracy', 'stat-val-loss', 'stat-val-accuracy'];
  for (const id of [...ids, 'stat-val-rmse', 'stat-val-r2']) {
    $(id).textContent = '–';
    delete $(id).dataset.value;
  }
  $('stat-speed').textContent = '–';
  $('stat-gflops').textContent = '–';
  view = { busy: false, last: 0, cost: 0, wanted: false };
}

function drawStats(): void {
  if (!statsDirty || !session) return;
  statsDirty = false;
  const s = session;
  const x = live.x;
  setStat('stat-epoch', x, Number.isInteger(x) ? String(x) : x.toFixed(x < 10 ? 2 : 1));
  $('stat-epoch').insertAdjacentHTML('beforeend', `<small> / ${s.config.epochs}</small>`);
  setStat('stat-step', live.step, live.step.toLocaleString('en-US'));
  setStat('stat-loss', live.loss, live.loss.toFixed(4));
  setStat('stat-accuracy', live.accuracy, pct(live.accuracy));
  setStat('stat-speed', live.speed, Math.round(live.speed).toLocaleString('en-US'));
  const gflops = (live.speed * s.model.flopsPerSample) / 1e9;
  setStat('stat-gflops', gflops, gflops < 10 ? gflops.toFixed(3) : gflops.toFixed(1));
}

/** Asks for the regions or digit guesses to be redrawn at the next chance. */
function requestView(): void {
  view.wanted = true;
}

/**
 * Redraws what the model predicts. Predicting costs GPU time that training could use, so while it trains this
 * runs at most every 400 ms, and less often where a redraw is slow (a software GPU).
 */
async function drawView(now: number): Promise<void> {
  const s = session;
  const d = data;
  if (!s || !d || view.busy) return;
  const training = s.state === 'training';
  // A table's scores come with each epoch (events.epoch), not on a timer.
  const due = training && !d.table && now - view.last > Math.max(400, 4 * view.cost);
  if (!view.wanted && !due) return;
  view.busy = true;
  view.wanted = false;
  const started = performance.now();
  try {
    if (d.name === 'mnist' && galleryInputs) {
      const count = galleryInputs.length / 784;
      const probs = await predict(s, galleryInputs);
      if (s !== session) return;
      const wrong = labelGallery(ui.gallery, probs, d.val.y);
      $('gallery-score').textContent = `${count - wrong} of ${count} right`;
      if (padPixels) showProbabilities(ui.probs, await predict(s, padPixels));
    } else if (grid && d.extent) {
      const out = await predict(s, grid);
      if (s !== session) return;
      drawRegions(ui.regions, classOneShare(out, s.config.loss), d.train, d.extent);
    } else if (d.table) {
      const out = await predict(s, d.val.x as Float32Array);
      if (s === session) showScores(out);
    }
  } catch (error) {
    // A session replaced mid-draw is expected; anything else is worth seeing.
    if (s === session) console.error(error);
  } finally {
    view.cost = performance.now() - started;
    view.last = performance.now();
    view.busy = false;
  }
}

/** Sessions whose GPU prediction has been set going once, for its kernels to be ready when training starts. */
const warmed = new WeakSet<Session>();

/**
 * The model's outputs for x. Before training (an untrained or a loaded model) they come from the CPU where that
 * is cheap: the parameters are read once, and the page need not wait for the GPU's first prediction, which on a
 * CPU adapter takes seconds while its kernels are specialised. That prediction still runs, unseen, so that the
 * kernels it shares with training are ready by the time Start is pressed.
 */
async function predict(s: Session, x: Float32Array): Promise<Float32Array> {
  const { sizes, activations, loss } = s.config;
  const rows = x.length / sizes[0];
  if (s.state !== 'ready' || forwardCost(sizes, rows) > CPU_FORWARD_BUDGET) return s.predict(x);
  const params = await s.startingParameters();
  // Started meanwhile: a CPU pass now would hold up the page while it trains, so the worker predicts.
  if (s.state !== 'ready') return s.predict(x);
  if (!warmed.has(s)) {
    warmed.add(s);
    s.predict(x).catch(() => {});
  }
  return forward(params, activations, loss, x, rows);
}

/**
 * How often (ms) the readouts and charts are redrawn while a run trains: not every frame, as each redraw costs
 * the page a layout and a paint, and a machine without a GPU shares its cores between the page and training.
 */
const REDRAW_MS = 100;
let redrawn = 0;

function frame(now: number): void {
  if (session?.state !== 'training' || now - redrawn >= REDRAW_MS) {
    redrawn = now;
    drawStats();
    curves.draw();
  }
  void drawView(now);
  requestAnimationFrame(frame);
}

const pad = new DrawPad($<HTMLCanvasElement>('pad'), $<HTMLCanvasElement>('pad-preview'), (pixels) => {
  padPixels = pixels;
  if (!pixels) showProbabilities(ui.probs, null);
  else requestView();
});
$('pad-clear').addEventListener('click', () => pad.clear());

// ---------------------------------------------------------------- model files

/** Resolves once a loaded model has been measured on the validation set (Start waits for it). */
let scoring: Promise<void> = Promise.resolve();

function note(text: string, error = false): void {
  ui.modelNote.textContent = text;
  ui.modelNote.classList.toggle('error', error);
}

/** Measures a loaded model on the validation set and shows the result. */
function scoreLoaded(s: Session, file: string): void {
  setStatus(`Loaded ${file}; measuring it on the validation set…`, 'ready');
  scoring = s.evaluate().then(
    ({ loss, accuracy }) => {
      if (s !== session || s.state !== 'ready') return;
      setStat('stat-val-loss', loss, loss.toFixed(4));
      setStat('stat-val-accuracy', accuracy, pct(accuracy));
      setStatus(`Loaded ${file}: validation accuracy ${pct(accuracy)}. Press Start to train it further.`, 'ready');
    },
    (error: Error) => {
      if (s === session) setStatus(`Loaded ${file}, but measuring it failed: ${error.message}`, 'ready');
    },
  );
}

ui.download.addEventListener('click', async () => {
  const s = session;
  if (!s || s.state === 'training') return;
  try {
    // A table's model carries its preprocessing, as the command line's model files do.
    const table = s.config.data.table;
    const bytes = table ? withPreprocessing(await s.save(), table.preprocessing) : await s.save();
    const name = modelFileName(s.config.data, s.config.sizes);
    offerDownload(bytes, name);
    const trained = s.stepsDone > 0 ? `after ${s.stepsDone.toLocaleString('en-US')} steps` : 'as it is now';
    const extra = table ? ', with its preprocessing (for webgrad predict)' : '';
    note(`Saved ${name} (${(bytes.length / 1024).toFixed(1)} KiB), the model ${trained}${extra}.`);
  } catch (error) {
    note(`Could not save the model: ${(error as Error).message}`, true);
  }
});

ui.load.addEventListener('change', () => {
  const file = ui.load.files?.[0];
  // Cleared, so that picking the same file again loads it again.
  ui.load.value = '';
  if (file) void loadModel(file);
});

/**
 * Reads a model file and starts a fresh run from it: its architecture goes into the settings, its parameters
 * into the model, and the dataset becomes one it fits. A file that is no model, or one no dataset here fits,
 * is refused with the reason, and the page stays as it was.
 */
async function loadModel(file: File): Promise<void> {
  if (!trainer || locked()) return;
  let model: ReturnType<typeof decodeModel>;
  try {
    // Read here with the reader engine.load() uses; the worker builds the model from it in rebuild().
    model = decodeModel(new Uint8Array(await file.arrayBuffer()));
  } catch (error) {
    note(`${file.name} is not a model file webgrad can read: ${(error as Error).message}`, true);
    return;
  }
  try {
    const name = datasetFor(model, file.name, ui.dataset.value as DatasetName);
    if (locked()) throw new Error('a run was started meanwhile; pause and reset it first');
    applyModel(model, name);
    clearTimeout(rebuildTimer);
    note(`Loaded ${file.name}: ${describeModel(model)}.`);
    await rebuild({ params: model.params, file: file.name });
  } catch (error) {
    note(`${file.name} cannot be used here: ${(error as Error).message}`, true);
  }
}

/** Puts a loaded model's architecture into the settings (and the dataset it fits, with its preset). */
function applyModel(m: Architecture, name: DatasetName): void {
  if (ui.dataset.value !== name) {
    ui.dataset.value = name;
    applyPreset(name);
    $('noise-value').textContent = Number(ui.noise.value).toFixed(2);
  }
  layers.hidden = m.sizes.slice(1, -1).map((width, i) => ({ width, activation: m.activations[i] }));
  ui.loss.value = m.loss;
  layers.output = m.activations[m.activations.length - 1];
  renderLayers();
  describeBatch();
  describeTraining();
}

// ---------------------------------------------------------------- device

function noWebGpu(reason: string): void {
  $('no-webgpu').hidden = false;
  // The data can still be shown, just not learnt.
  void makeData('spiral', PRESETS.spiral.rows, NOISE.spiral, 0).then((d) =>
    drawRegions(ui.regions, null, d.train, d.extent!),
  );
  $('no-webgpu-reason').textContent = reason ? `(${reason})` : '';
  $('adapter-chip').textContent = 'No WebGPU';
  $('adapter-chip').classList.add('bad');
  setStatus('WebGPU is not available in this browser; see the note above.', 'no-webgpu');
  updateButtons();
}

const TIMING = 'Preparing… Without a GPU, webgrad first times its matmul kernels on this adapter: a few seconds, once.';

async function init(): Promise<void> {
  applyPreset('spiral');
  $('noise-value').textContent = Number(ui.noise.value).toFixed(2);
  renderLayers();
  describeBatch();
  describeTraining();
  showProbabilities(ui.probs, null);
  requestAnimationFrame(frame);
  if (!('gpu' in navigator) || !navigator.gpu) {
    noWebGpu('navigator.gpu is missing');
    return;
  }
  try {
    // The worker starts with the smallest model; every rebuild() puts in the one the settings describe. Where the
    // adapter runs shaders on the CPU, the engine's first start times the matmul kernels (seconds, once per
    // origin): it says so just before, rather than leave a bare "Preparing…".
    trainer = await createTrainer({
      model: { sizes: [2, 2], activations: ['identity'], loss: 'cross_entropy' },
      onTiming: () => setStatus(TIMING, 'loading'),
    });
  } catch (error) {
    const message = (error as Error).message.replace(/^webgrad: /, '');
    noWebGpu(/adapter/.test(message) ? 'no WebGPU adapter was found' : message);
    return;
  }
  describeDevice(trainer);
  await rebuild();
}

void init();
