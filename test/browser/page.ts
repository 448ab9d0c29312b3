// Runs in headless Chromium: the library from its browser entry on navigator.gpu, a gradient check against the
// float64 reference, and training steps. test/browser.test.ts reads the result from window.webgradCheck().
import { createEngine } from '../../src/index.js';
import { Random } from '../../src/core/random.js';
import { runsOnCpu } from '../../src/gpu/autotune.js';
import type { Activation, Loss } from '../../src/core/types.js';
import { lossAndGradients, type RefSpec, toRefLayers } from '../reference/mlp.js';

interface Case {
  spec: RefSpec;
  b: number;
  worst: number;
}

/** max over elements of |gpu − ref| / (atol + rtol·|ref|): at most 1 means within tolerance. */
function worstRatio(gpu: ArrayLike<number>, ref: ArrayLike<number>, atol: number, rtol: number): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = Math.abs(gpu[i] - ref[i]) / (atol + rtol * Math.abs(ref[i]));
    worst = Number.isNaN(r) ? Number.POSITIVE_INFINITY : Math.max(worst, r);
  }
  return worst;
}

async function check() {
  const engine = await createEngine();
  const rng = new Random(1);
  const cases: Case[] = [];
  const specs: [number[], Activation[], Loss, boolean][] = [
    [[5, 7, 3], ['relu', 'identity'], 'cross_entropy', true],
    [[3, 33, 2], ['gelu', 'sigmoid'], 'mse', false],
    [[4, 6, 5, 2], ['softmax', 'tanh', 'identity'], 'binary_cross_entropy', false],
  ];
  for (const [sizes, activations, loss, indices] of specs) {
    const b = 9;
    const spec: RefSpec = { sizes, activations, loss };
    const model = engine.mlp({ ...spec, seed: 3 });
    const x = Float32Array.from({ length: b * sizes[0] }, () => rng.normal());
    const out = sizes[sizes.length - 1];
    const y = indices
      ? Uint32Array.from({ length: b }, () => rng.int(out))
      : Float32Array.from({ length: b * out }, () => (loss === 'mse' ? rng.normal() : rng.int(2)));
    const ref = lossAndGradients(spec, toRefLayers(await model.getParameters()), x, y, b);
    const gpu = await model.lossAndGradients(x, y);
    let worst = worstRatio([gpu.loss], [ref.loss], 2e-5, 2e-4);
    gpu.gradients.forEach((g, j) => {
      worst = Math.max(worst, worstRatio(g.weight, ref.gradients[j].weight, 2e-5, 2e-4));
      worst = Math.max(worst, worstRatio(g.bias, ref.gradients[j].bias, 2e-5, 2e-4));
    });
    cases.push({ spec, b, worst });
    model.dispose();
  }
  // Training: XOR-like data with fit (gather, Adam, async loss) and sgdStep.
  const n = 64;
  const x = Float32Array.from({ length: n * 2 }, () => rng.uniform() * 2 - 1);
  const y = Uint32Array.from({ length: n }, (_, i) => Number(x[2 * i] * x[2 * i + 1] > 0));
  const model = engine.mlp({ sizes: [2, 16, 2], activations: ['tanh', 'identity'], loss: 'cross_entropy', seed: 1 });
  const before = (await model.evaluate(x, y)).loss;
  model.sgdStep(x, y, 0.5);
  const stepLoss = await model.lastLoss(); // the loss the step saw, before its update
  const afterStep = (await model.evaluate(x, y)).loss;
  const history = await model.fit(
    { x, y },
    { epochs: 30, batchSize: 16, optimizer: { type: 'adam', learningRate: 0.05 } },
  );
  const after = await model.evaluate(x, y);
  const result = { adapter: engine.adapter, cases, before, stepLoss, afterStep, after, steps: history.steps };
  engine.destroy();
  return result;
}

/** The kernel 'auto' takes here, and what this origin's IndexedDB holds afterwards (see gpu/tuning-store.ts). */
async function matmulChoice() {
  const engine = await createEngine();
  const choice = { name: engine.matmul.name, timings: engine.matmulTimings, cpu: runsOnCpu(engine.adapter) };
  engine.destroy();
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open('webgrad');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const stored = await new Promise<unknown[]>((resolve, reject) => {
    if (!db.objectStoreNames.contains('matmul')) return resolve([]);
    const request = db.transaction('matmul').objectStore('matmul').getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  db.close();
  return { ...choice, stored };
}

Object.assign(window, { webgradCheck: check, webgradMatmul: matmulChoice });
