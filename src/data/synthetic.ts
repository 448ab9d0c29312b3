import { Random } from '../core/random.js';
import type { Dataset } from './dataset.js';

/** Options shared by the generators. */
export interface SyntheticOptions {
  /** Seed for every random choice; the same seed gives the same points. Default 0. */
  seed?: number;
  /** Standard deviation of Gaussian noise added to each coordinate after labelling. Default 0. */
  noise?: number;
}

/** Turns each spiral makes: enough that no small network separates them with a few lines. */
const SPIRAL_TURNS = 1.75;

function checkCount(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name}: n must be a non-negative integer, got ${n}`);
}

/**
 * Builds n two-class points in the plane. Labels alternate 0, 1, 0, … so the classes are balanced (class 0 gets the
 * extra point when n is odd) and every prefix of the data stays balanced.
 */
function generate(
  name: string,
  n: number,
  options: SyntheticOptions,
  point: (label: number, random: Random) => [number, number],
): Dataset {
  checkCount(name, n);
  const noise = options.noise ?? 0;
  const random = new Random(options.seed ?? 0);
  const x = new Float32Array(n * 2);
  const y = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const [a, b] = point(label, random);
    x[2 * i] = a + noise * random.normal();
    x[2 * i + 1] = b + noise * random.normal();
    y[i] = label;
  }
  return { x, y, n, inputs: 2, classes: 2 };
}

/**
 * Two interleaved spirals, each winding 1.75 turns out from the origin to radius 1; class 1 is class 0 turned
 * by half a turn. Points are spread evenly along the arms (radius ∝ √u).
 */
export function twoSpirals(n: number, options: SyntheticOptions = {}): Dataset {
  return generate('twoSpirals', n, options, (label, random) => {
    const r = Math.sqrt(random.uniform());
    const angle = r * SPIRAL_TURNS * 2 * Math.PI + label * Math.PI;
    return [r * Math.cos(angle), r * Math.sin(angle)];
  });
}

/**
 * Two interleaving half circles of radius 1 (as scikit-learn's make_moons), shifted so the pair is centred on
 * the origin: class 0 is the upper arc, class 1 the lower one.
 */
export function moons(n: number, options: SyntheticOptions = {}): Dataset {
  return generate('moons', n, options, (label, random) => {
    const angle = random.uniform() * Math.PI;
    return label === 0
      ? [Math.cos(angle) - 0.5, Math.sin(angle) - 0.25]
      : [0.5 - Math.cos(angle), 0.25 - Math.sin(angle)];
  });
}

/**
 * Two concentric circles: class 0 on the unit circle, class 1 on a circle of radius `factor` (default 0.5,
 * in (0, 1)).
 */
export function circles(n: number, options: SyntheticOptions & { factor?: number } = {}): Dataset {
  const factor = options.factor ?? 0.5;
  if (!(factor > 0 && factor < 1)) throw new RangeError(`circles: factor must be in (0, 1), got ${factor}`);
  return generate('circles', n, options, (label, random) => {
    const angle = random.uniform() * 2 * Math.PI;
    const r = label === 0 ? 1 : factor;
    return [r * Math.cos(angle), r * Math.sin(angle)];
  });
}

/**
 * Points uniform in the square [-1, 1]², labelled 1 where the coordinates have opposite signs (x·y < 0) and 0
 * where they agree: XOR of the signs, which no linear model separates.
 */
export function xor(n: number, options: SyntheticOptions = {}): Dataset {
  return generate('xor', n, options, (label, random) => {
    // Drawing the quadrant from the label keeps the classes exactly balanced; 1 − u avoids landing on an axis.
    const sx = random.uniform() < 0.5 ? -1 : 1;
    const sy = label === 1 ? -sx : sx;
    return [sx * (1 - random.uniform()), sy * (1 - random.uniform())];
  });
}

/** The exact XOR truth table: inputs (0,0), (0,1), (1,0), (1,1) with classes 0, 1, 1, 0. */
export function xorTable(): Dataset {
  return {
    x: new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]),
    y: new Uint32Array([0, 1, 1, 0]),
    n: 4,
    inputs: 2,
    classes: 2,
  };
}
