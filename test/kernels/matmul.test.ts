// shaders/matmul.wgsl, matmul_wide.wgsl (with both of its entry points) and matmul_tiled.wgsl in their three forms
// and four epilogues against float64 products, on shapes that are not multiples of 4, of the K step (16) or of
// any tile (64x64, 128x128), including the narrow shapes where invocations step along rows. Tolerance: f32
// accumulation over K terms of size <= 1.
import { describe, expect, it } from 'vitest';
import { act, dact } from '../reference/activations.js';
import { expectClose, randomArray } from '../reference/check.js';
import { useEngine } from '../gpu.js';
import { runnableVariants } from '../../src/gpu/autotune.js';
import { MATMUL_VARIANTS, matmulGroups } from '../../src/gpu/kernels.js';
import { pad, roundUp, runKernel, unpad } from './harness.js';

const engine = await useEngine();
const tol = (K: number) => ({ atol: 2e-7 * K + 1e-6, rtol: 1e-5 });
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [5, 3, 7],
  [33, 7, 257],
  [7, 257, 33],
  [1000, 3, 5],
  [70, 130, 1],
  [200, 40, 9],
  [131, 259, 6],
];
// Every kernel the device can run ('subgroup' needs subgroups of four: SwiftShader has them, see autotune.test.ts).
const runnable = await runnableVariants(engine);
const CASES = runnable.flatMap((name) => SHAPES.map(([M, N, K]) => [MATMUL_VARIANTS[name].kernel, M, N, K] as const));

/** The variant a kernel implements. */
function variantOf(kernel: string) {
  return Object.values(MATMUL_VARIANTS).find((v) => v.kernel === kernel)!;
}

/** C[m, n] = Σ_k A(m, k) B(k, n) in float64. */
function product(
  M: number,
  N: number,
  K: number,
  a: (m: number, k: number) => number,
  b: (k: number, n: number) => number,
) {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a(m, k) * b(k, n);
      c[m * N + n] = s;
    }
  return c;
}

/**
 * A weight-gradient product [M, N] = δᵀ [M, K] · X [K, N], K the batch: δ and X from the seeds, δ padded to rows
 * of ldm with stale values in the rows past K (as a larger earlier batch leaves them), the kernel's dims, and
 * the float64 product.
 */
function weightGradientCase(M: number, N: number, K: number, seedD: number, seedX: number) {
  const ldm = roundUp(M, 4);
  const ldn = roundUp(N, 4);
  const d = randomArray(K * M, seedD);
  const xs = randomArray(K * N, seedX);
  const dstale = new Float32Array((K + 3) * ldm).fill(5);
  dstale.set(pad(d, K, M, ldm));
  const dims = [M, N, K, ldm / 4, ldn / 4, ldn / 4, K, K];
  const ref = product(
    M,
    N,
    K,
    (m, k) => d[k * M + m],
    (k, n) => xs[k * N + n],
  );
  return { ldm, d, xs, dstale, dims, ref };
}

/** Pad columns [N, ld) must be exactly zero, and rows past M untouched (still `fill`). */
function expectLayout(c: Float32Array, M: number, N: number, ld: number, rows: number, fill: number, label: string) {
  for (let m = 0; m < rows; m++) {
    for (let n = 0; n < ld; n++) {
      const v = c[m * ld + n];
      if (m >= M) expect(v, `${label}: row ${m} past M was written`).toBe(fill);
      else if (n >= N) expect(v, `${label}: pad (${m}, ${n}) must stay 0`).toBe(0);
    }
  }
}

describe.each(CASES)('%s M=%i N=%i K=%i', (kernel, M, N, K) => {
  const groups = (rows: number, cols: number) => matmulGroups(variantOf(kernel), rows, cols);
  const x = randomArray(M * K, 1);
  const w = randomArray(N * K, 2);
  const bias = randomArray(N, 3);
  const ldk = roundUp(K, 4);
  const ldn = roundUp(N, 4);
  const extra = 3; // stale rows past M (or past K in the TN form) that must not leak into results
  const sentinel = 7.5;

  it('NT: Z = X·Wᵀ + b with the activation fused (forward)', async () => {
    const xs = pad(x, M, K, ldk);
    const stale = new Float32Array((M + extra) * ldk).fill(9);
    stale.set(xs);
    const c0 = new Float32Array((M + extra) * ldn).fill(sentinel);
    const [, , z, , a] = await runKernel(engine, kernel, {
      constants: { FORM: 0, EPILOGUE: 2, ACT: 5 },
      dims: [M, N, K, ldk / 4, ldk / 4, ldn / 4, M, N],
      buffers: [stale, pad(w, N, K, ldk), c0, pad(bias, 1, N, ldn), c0.slice()],
      workgroups: groups(M, N),
    });
    const ref = product(
      M,
      N,
      K,
      (m, k) => x[m * K + k],
      (k, n) => w[n * K + k],
    ).map((v, i) => v + bias[i % N]);
    expectClose(unpad(z, M, N, ldn), ref, tol(K), 'Z');
    expectClose(
      unpad(a, M, N, ldn),
      ref.map((v) => act('gelu', v)),
      tol(K),
      'gelu(Z)',
    );
    expectLayout(z, M, N, ldn, M + extra, sentinel, 'Z');
    expectLayout(a, M, N, ldn, M + extra, sentinel, 'A');
  });

  it('NN: dX = (δ·W) ⊙ act′(Z_prev) (backward to the input)', async () => {
    // Here the product is [M, N] with K = the layer's outputs: δ [M, K], W [K, N].
    const d = randomArray(M * K, 4);
    const wt = randomArray(K * N, 5);
    const zprev = randomArray(M * N, 6, 2);
    const c0 = new Float32Array((M + extra) * ldn).fill(sentinel);
    const [, , dx] = await runKernel(engine, kernel, {
      constants: { FORM: 1, EPILOGUE: 3, ACT: 4 },
      dims: [M, N, K, ldk / 4, ldn / 4, ldn / 4, M, ldk],
      buffers: [pad(d, M, K, ldk), pad(wt, K, N, ldn), c0, pad(zprev, M, N, ldn), 4],
      workgroups: groups(M, N),
    });
    const ref = product(
      M,
      N,
      K,
      (m, k) => d[m * K + k],
      (k, n) => wt[k * N + n],
    ).map((v, i) => v * dact('tanh', zprev[i]));
    expectClose(unpad(dx, M, N, ldn), ref, tol(K), 'dX');
    expectLayout(dx, M, N, ldn, M + extra, sentinel, 'dX');
  });

  it('TN: dW = δᵀ·X, stored and accumulated (weight gradient)', async () => {
    const { xs, dstale, dims, ref } = weightGradientCase(M, N, K, 7, 8);
    const xstale = new Float32Array((K + extra) * ldn).fill(-5);
    xstale.set(pad(xs, K, N, ldn));
    const [, , dw] = await runKernel(engine, kernel, {
      constants: { FORM: 2, EPILOGUE: 0, ACT: 0 },
      dims,
      buffers: [dstale, xstale, new Float32Array(M * ldn), 4, 4],
      workgroups: groups(M, N),
    });
    expectClose(unpad(dw, M, N, ldn), ref, tol(K), 'dW');
    expectLayout(dw, M, N, ldn, M, sentinel, 'dW');
    const prior = pad(randomArray(M * N, 9), M, N, ldn);
    const [, , acc] = await runKernel(engine, kernel, {
      constants: { FORM: 2, EPILOGUE: 1, ACT: 0 },
      dims,
      buffers: [dstale, xstale, prior, 4, 4],
      workgroups: groups(M, N),
    });
    expectClose(
      unpad(acc, M, N, ldn),
      ref.map((v, i) => v + prior[Math.floor(i / N) * ldn + (i % N)]),
      tol(K),
      'dW += ',
    );
  });
});

// The kernels that sum the bias gradient in their TN form (MATMUL_VARIANTS[...].biasGrad).
const BIAS_CASES = CASES.filter(([kernel]) => variantOf(kernel).biasGrad);

describe.each(BIAS_CASES)('%s M=%i N=%i K=%i', (kernel, M, N, K) => {
  const groups = (rows: number, cols: number) => matmulGroups(variantOf(kernel), rows, cols);
  const ldn = roundUp(N, 4);
  const sentinel = 7.5;

  it('TN with BIAS_GRAD: db = Σ_k δ[k, m] as well, stored and accumulated', async () => {
    const { ldm, d, xs, dstale, dims, ref: wref } = weightGradientCase(M, N, K, 10, 11);
    const ref = Array.from({ length: M }, (_, m) => {
      let s = 0;
      for (let k = 0; k < K; k++) s += d[k * M + m];
      return s;
    });
    const prior = randomArray(M, 12);
    for (const epilogue of [0, 1]) {
      const db0 = new Float32Array(ldm + 4).fill(sentinel);
      if (epilogue === 1) db0.set(pad(prior, 1, M, ldm));
      const [, , dw, , db] = await runKernel(engine, kernel, {
        constants: { FORM: 2, EPILOGUE: epilogue, ACT: 0, BIAS_GRAD: 1 },
        dims,
        buffers: [dstale, pad(xs, K, N, ldn), new Float32Array(M * ldn), 4, db0],
        workgroups: groups(M, N),
      });
      const want = epilogue === 1 ? ref.map((v, m) => v + prior[m]) : ref;
      expectClose(db.subarray(0, M), want, tol(K), `db (EPILOGUE ${epilogue})`);
      for (let m = M; m < ldm; m++) expect(db[m], `db pad ${m}`).toBe(0);
      for (let m = ldm; m < ldm + 4; m++) expect(db[m], `db past its vec4s, ${m}`).toBe(sentinel);
      if (epilogue === 0) expectClose(unpad(dw, M, N, ldn), wref, tol(K), 'dW beside db');
    }
  });
});
