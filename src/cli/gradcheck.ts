import type { Dataset, GradientCheck, Mlp, Targets } from '../api.js';

/** Rows the check takes from the start of the training set: enough rows for a batch loss, few for the CPU. */
const CHECK_ROWS = 64;

/**
 * Runs model.checkGradients on the first rows of the training set, as the model will see them (bytes scaled
 * to floats, targets as trained on), and prints the worst relative error per layer. Resolves with whether the
 * gradients are within the tolerance.
 */
export async function checkGradientsBeforeTraining(
  model: Mlp,
  train: { x: Dataset['x']; y: Targets; inputScale?: number },
  json: boolean,
  print: (line: string) => void,
): Promise<boolean> {
  const inputs = model.sizes[0];
  const outputs = model.sizes[model.sizes.length - 1];
  const rows = Math.min(CHECK_ROWS, train.x.length / inputs);
  const scale = train.inputScale ?? 1;
  const x = Float32Array.from(train.x.subarray(0, rows * inputs), (v) => v * scale);
  const y = train.y instanceof Uint32Array ? train.y.slice(0, rows) : train.y.slice(0, rows * outputs);
  const check = await model.checkGradients(x, y);
  if (json) print(JSON.stringify({ gradientCheck: { rows, ...check } }));
  else for (const line of table(check, rows)) print(line);
  return check.ok;
}

function table(check: GradientCheck, rows: number): string[] {
  const e = (v: number) => v.toExponential(1);
  return [
    `gradient check on ${rows} training rows: backpropagation against float64 central differences`,
    'layer  weight   bias',
    ...check.layers.map((l, j) => `${String(j + 1).padStart(5)}  ${e(l.weight).padEnd(7)}  ${e(l.bias)}`),
    `worst relative error ${e(check.maxRelativeError)} (tolerance ${check.tolerance}), ${check.checked} parameters ` +
      `checked, ${check.skipped} passed over at a relu kink: ${check.ok ? 'ok' : 'FAILED'}`,
  ];
}
