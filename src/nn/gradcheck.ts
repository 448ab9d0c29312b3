import { describe } from '../core/errors.js';
import { Random } from '../core/random.js';
import type { LayerParameters, Targets } from '../core/types.js';
import { CpuMlp, type MlpShape, type Pass } from './cpu-mlp.js';

/**
 * The gradient check behind Mlp.checkGradients: central differences of the batch loss, computed in float64 on
 * the CPU (cpu-mlp.ts), against the gradients backpropagation computed in float32 on the GPU.
 */

export interface GradientCheckOptions {
  /** Step of the central difference, relative to the parameter: h = epsilon·max(1, |θ|). Default 1e-5. */
  epsilon?: number;
  /** Parameters checked per weight and per bias of each layer, drawn at random; all of a smaller one. Default 32. */
  samples?: number;
  /** Seed of the draw. Default 0. */
  seed?: number;
}

export interface GradientCheck {
  /** Whether every checked parameter's relative error is at most `tolerance`. */
  ok: boolean;
  /** The bound the errors are held to (GRADIENT_TOLERANCE). */
  tolerance: number;
  /** The worst relative error over all layers (Infinity for a gradient that is not finite). */
  maxRelativeError: number;
  /** The worst relative error of each layer's weight and bias (0 where nothing could be checked). */
  layers: { weight: number; bias: number }[];
  /** Parameters compared. */
  checked: number;
  /** Parameters passed over because a relu or leaky_relu unit crossed 0 within ±h (another is drawn instead). */
  skipped: number;
}

/**
 * The bound on |g − d| / max(|g| + |d|, floor) that a correct gradient stays under, g the GPU's entry and d the
 * central difference. The GPU computes in float32 (unit roundoff u = 2⁻²⁴ ≈ 6e-8): its error in an entry is a
 * few u of the entry's scale (the entry itself, or where the entry is much smaller than the numbers it is formed
 * from, those; see MASS_SHARE), growing slowly with depth and width. The float64 difference is exact by
 * comparison: truncation h²/6·|∂³L| and rounding about 1e-16·|L|/h, both near 1e-10 relative for h = 1e-5.
 * Against floors at 1% of the scale, 1e-3 is reached at an error of 1e-5 of the scale, about 170 u. Measured,
 * the worst over every activation and loss, untrained and trained networks, 2 to 6 layers up to 784 wide and
 * batches of 1 to 1,000 rows is 4e-5 (about 7 u), a margin of 25. A gradient wrong by 1% reads 0.01/2.01 ≈ 5e-3
 * in entries above their floor, and real backpropagation bugs (a missing factor, a wrong derivative, a
 * transposed index) are off by far more.
 */
export const GRADIENT_TOLERANCE = 1e-3;

/**
 * Floors of the error's denominator. The GPU's rounding error in an entry is a few u times the magnitudes the
 * entry is computed from, not times the entry, and cancellation makes an entry much smaller than those without
 * anything being wrong:
 * - at the output: ∂L/∂θ_i = Σ_r,c (∂L/∂out_rc)(∂out_rc/∂θ_i) over the rows r and outputs c, and the loss's
 *   derivative itself cancels (s − y on a well-fitted row is tiny beside s and y; so is F − y for mse).
 *   The entry's mass, M_i = Σ_r,c m_rc·|∂out_rc/∂θ_i| with m the sizes of the loss derivative's terms
 *   (lossSlopeSizes) and ∂out/∂θ_i from the same two passes as the difference, bounds what the sum is formed
 *   from; an entry is measured against at least MASS_SHARE·M_i. This also covers the rows' contributions
 *   cancelling over a large batch, as they do in most entries of an untrained network.
 * - inside the network: a unit near a stationary point of its activation (gelu′ crosses 0 near −0.75, 1 + tanh
 *   cancels in gelu far below 0, softmax's v − ⟨s, v⟩) has a derivative float32 gets only to a few u of its
 *   neighbours'. The largest |d| of the same weight or bias stands in for those: an entry is measured against
 *   at least TENSOR_SHARE of it.
 * An error of 1% still reads 5e-3 in every entry above 1% of both.
 */
const MASS_SHARE = 1e-2;
const TENSOR_SHARE = 1e-2;
/**
 * And the central difference's own rounding: each row's loss is computed to a few hundred float64 units, so a
 * difference quotient is uncertain by about 1e-13·|ℓ_r|/h. An entry is measured against at least 1e5 float64
 * units of the mean |ℓ_r|/h, which keeps that noise a thousandth of the tolerance.
 */
const FD_NOISE = 1e5 * Number.EPSILON;

/** The options with defaults, checked: a TypeError or RangeError naming what was expected and what came. */
export function gradientCheckOptions(options: unknown, what: string): Required<GradientCheckOptions> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${what}: options must be an object { epsilon?, samples?, seed? }, got ${describe(options)}`);
  }
  const { epsilon = 1e-5, samples = 32, seed = 0 } = options as GradientCheckOptions;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) {
    throw new RangeError(`${what}: epsilon must be a finite number > 0, got ${describe(epsilon)}`);
  }
  if (!Number.isInteger(samples) || samples < 1) {
    throw new RangeError(`${what}: samples must be an integer >= 1, got ${describe(samples)}`);
  }
  if (!Number.isInteger(seed)) throw new TypeError(`${what}: seed must be an integer, got ${describe(seed)}`);
  return { epsilon, samples, seed };
}

/** 0..n-1 in a seeded random order, drawn lazily (a Fisher-Yates shuffle keeping only the swapped entries). */
function* randomOrder(n: number, random: Random): Generator<number> {
  const moved = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    const j = k + random.int(n - k);
    yield moved.get(j) ?? j;
    moved.set(j, moved.get(k) ?? k);
  }
}

/** One compared entry: the GPU's gradient, the central difference, and the least it is measured against. */
interface Pair {
  gpu: number;
  fd: number;
  floor: number;
}

/**
 * The worst |gpu − fd| / max(|gpu| + |fd|, floor) of one tensor's pairs, the floor raised to TENSOR_SHARE of
 * the largest |fd|; a non-finite error counts as Infinity.
 */
function worstError(pairs: Pair[]): number {
  const scale = TENSOR_SHARE * pairs.reduce((m, p) => Math.max(m, Math.abs(p.fd)), 0);
  let worst = 0;
  for (const { gpu, fd, floor } of pairs) {
    const error = Math.abs(gpu - fd) / Math.max(Math.abs(gpu) + Math.abs(fd), floor, scale, Number.MIN_VALUE);
    worst = Math.max(worst, Number.isNaN(error) ? Infinity : error);
  }
  return worst;
}

/**
 * The central difference of the batch loss from two passes at θ ± h, and its mass: Σ_r,c m_rc·|∂out_rc/∂θ_i|,
 * m the sizes of ∂L/∂out's terms (lossSlopeSizes) and ∂out/∂θ_i from the same two passes.
 */
function difference(plus: Pass, minus: Pass, slopes: Float64Array, h: number): { fd: number; mass: number } {
  let sum = 0;
  for (let r = 0; r < plus.rows.length; r++) sum += plus.rows[r] - minus.rows[r];
  let mass = 0;
  for (let j = 0; j < slopes.length; j++) mass += slopes[j] * Math.abs(plus.out[j] - minus.out[j]);
  return { fd: sum / (2 * h * plus.rows.length), mass: mass / (2 * h) };
}

/** What every tensor's comparison shares. */
interface Context {
  cpu: CpuMlp;
  settings: Required<GradientCheckOptions>;
  random: Random;
  /** lossSlopeSizes at the current parameters. */
  slopes: Float64Array;
  /** The mean |ℓ_r|, for the difference's noise floor. */
  lossScale: number;
}

/**
 * Central differences of the float64 loss for up to `samples` parameters of one tensor (layer l's weight, or
 * its bias when `bias`), paired with the GPU's gradient there; counts the ones passed over at a kink.
 */
function compareTensor(at: Context, gpu: Float32Array, l: number, inputs: number, bias: boolean) {
  const { cpu, settings } = at;
  const pairs: Pair[] = [];
  let skipped = 0;
  for (const k of randomOrder(gpu.length, at.random)) {
    if (pairs.length === settings.samples) break;
    const [o, i] = bias ? [k, -1] : [Math.floor(k / inputs), k % inputs];
    const h = settings.epsilon * Math.max(1, Math.abs(cpu.parameter(l, o, i)));
    const plus = cpu.lossWith(l, o, i, h);
    const minus = cpu.lossWith(l, o, i, -h);
    if (plus.crossed || minus.crossed) {
      skipped++;
      continue;
    }
    const { fd, mass } = difference(plus, minus, at.slopes, h);
    pairs.push({ gpu: gpu[k], fd, floor: Math.max(MASS_SHARE * mass, (FD_NOISE * at.lossScale) / h) });
  }
  return { pairs, skipped };
}

/**
 * Checks `gradients` (the GPU's, of the batch x [rows, in], y) against central differences of the loss at
 * `params`, computed in float64. See Mlp.checkGradients.
 */
export function checkGradients(
  shape: MlpShape,
  params: readonly LayerParameters[],
  gradients: readonly LayerParameters[],
  x: Float32Array,
  y: Targets,
  rows: number,
  settings: Required<GradientCheckOptions>,
): GradientCheck {
  const cpu = new CpuMlp(shape, params, x, y, rows);
  const lossScale = cpu.rowLosses.reduce((sum, v) => sum + Math.abs(v), 0) / rows;
  const at: Context = { cpu, settings, random: new Random(settings.seed), slopes: cpu.lossSlopeSizes(), lossScale };
  let checked = 0;
  let skipped = 0;
  const layers = gradients.map((g, l) => {
    const [weight, bias] = [false, true].map((isBias) => {
      const found = compareTensor(at, isBias ? g.bias : g.weight, l, shape.sizes[l], isBias);
      checked += found.pairs.length;
      skipped += found.skipped;
      return worstError(found.pairs);
    });
    return { weight, bias };
  });
  const maxRelativeError = layers.reduce((m, e) => Math.max(m, e.weight, e.bias), 0);
  return {
    ok: maxRelativeError <= GRADIENT_TOLERANCE,
    tolerance: GRADIENT_TOLERANCE,
    maxRelativeError,
    layers,
    checked,
    skipped,
  };
}
