// Runs in headless Chromium: a model trained in a dedicated Worker through webgrad/worker, while this page
// records its own long tasks. test/worker/trainer.test.ts reads the result from window.workerCheck().
import { twoSpirals } from '../../../src/data/synthetic.js';
import { createEngine } from '../../../src/index.js';
import { createTrainer } from '../../../src/worker/trainer.js';

const errorOf = (e: unknown) => ({
  name: (e as Error).name,
  message: (e as Error).message,
  isRange: e instanceof RangeError,
  isType: e instanceof TypeError,
});

async function check() {
  const longTasks: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(entry.duration);
  });
  observer.observe({ type: 'longtask' });
  const spec = {
    sizes: [2, 32, 32, 2],
    activations: ['relu', 'relu', 'identity'],
    loss: 'cross_entropy',
    seed: 1,
  } as const;
  const trainer = await createTrainer({
    model: { ...spec, sizes: [...spec.sizes], activations: [...spec.activations] },
    engine: { matmul: 'regular' },
  });
  const data = twoSpirals(512, { seed: 1, noise: 0.02 });
  const x = data.x as Float32Array;
  const y = data.y as Uint32Array;
  const probe = x.slice(0, 16);
  const train = await trainer.data({ x, y });
  const transferred = x.length === 0 && y.length === 0;
  const steps: number[] = [];
  const epochs: number[] = [];
  const fitStart = performance.now();
  const history = await trainer.fit(train, {
    epochs: 25,
    batchSize: 64,
    optimizer: { type: 'adam', learningRate: 0.01 },
    onStep: (s) => steps.push(s.step),
    onEpoch: (e) => {
      epochs.push(e.loss);
    },
  });
  const fitMs = performance.now() - fitStart;
  const longDuringFit = [...longTasks];
  const evaluation = await trainer.evaluate(train);
  const predicted = await trainer.predict(probe);

  const badFit = await trainer.fit(train, { batchSize: -1 }).catch(errorOf);
  const badModel = await createTrainer({ model: { sizes: [2], activations: [], loss: 'mse' } }).catch(errorOf);
  const badTiming = await createTrainer({ model: spec as never, onTiming: 'log' as never }).catch(errorOf);

  const controller = new AbortController();
  const aborted = await trainer.fit(train, {
    epochs: 1000,
    batchSize: 64,
    signal: controller.signal,
    onStep: (s) => s.step === 5 && controller.abort(),
  });

  // The saved bytes load on this thread's own engine and give the worker's predictions.
  const latest = await trainer.predict(probe);
  const bytes = await trainer.save();
  const engine = await createEngine({ matmul: 'regular' });
  const here = await engine.load(bytes);
  const again = await here.predict(probe);
  engine.destroy();

  // Another model in the same worker and engine: the dataset sent before stays; a bad one, or one asked for
  // while a fit runs, is refused and the model stays as it was; saved bytes load as createTrainer's would.
  const first = trainer.model;
  await trainer.setModel({ sizes: [2, 48, 2], activations: ['tanh', 'identity'], loss: 'cross_entropy', seed: 2 });
  const swapped = trainer.model;
  const refit = await trainer.fit(train, { epochs: 2, batchSize: 128 });
  const badSwap = await trainer
    .setModel({ sizes: [2, 0, 2], activations: ['relu', 'identity'], loss: 'cross_entropy' })
    .catch(errorOf);
  const keptAfterBad = trainer.model.sizes.join() === '2,48,2' && (await trainer.predict(probe)).length === 16;
  const stop = new AbortController();
  const running = trainer.fit(train, { epochs: 1000, batchSize: 64, signal: stop.signal });
  const swapDuringFit = await trainer.setModel(bytes).catch(errorOf);
  stop.abort();
  await running;
  await trainer.setModel(bytes);
  const reloaded = await trainer.predict(probe);
  trainer.terminate();
  const afterTerminate = await trainer.predict(probe).catch(errorOf);
  observer.disconnect();
  return {
    adapter: trainer.adapter.architecture,
    transferred,
    history: { steps: history.steps, epochs: history.epochs.length, aborted: history.aborted },
    stepEvents: steps.length,
    epochEvents: epochs.length,
    firstLoss: epochs[0],
    lastLoss: epochs[epochs.length - 1],
    accuracy: evaluation.accuracy,
    samePredictions: Array.from(latest).every((v, i) => v === again[i]),
    predicted: predicted.length,
    badFit,
    badModel,
    badTiming,
    aborted: { aborted: aborted.aborted, steps: aborted.steps },
    afterTerminate,
    fitMs,
    longestTask: Math.max(0, ...longDuringFit),
    device: trainer.device,
    matmul: trainer.adapter.matmul,
    first,
    swapped,
    refitSteps: refit.steps,
    badSwap,
    keptAfterBad,
    swapDuringFit,
    reloadedSizes: trainer.model.sizes,
    sameAfterReload: Array.from(latest).every((v, i) => v === reloaded[i]),
  };
}

(window as unknown as { workerCheck: typeof check }).workerCheck = check;
