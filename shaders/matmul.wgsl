// matmul: C[M, N] = op(A) · op(B), the three products of training, with fused epilogues.
//
//   FORM 0 (NT)  A = X [M, K], B = W [N, K]   forward   Z = X · Wᵀ        (EPILOGUE 2: + bias, act)
//   FORM 1 (NN)  A = δ [M, K], B = W [K, N]   backward  dX = δ · W        (EPILOGUE 3: ⊙ act'(Z_prev))
//   FORM 2 (TN)  A = δ [K, M], B = X [K, N]   backward  dW = δᵀ · X       (EPILOGUE 0 store, 1 accumulate)
//
// Layout: row-major, every leading dimension (lda, ldb, ldc, in vec4 units) a multiple of 4 floats, and every
// pad column zero, so the K loop runs four at a time with vec4 loads. Rows past M may hold stale data from an
// earlier, larger batch: their outputs are never stored, and in the TN form the batch is K, looped exactly.
// Load indices are clamped to the stored extent, so over-reads at tile edges stay inside the buffers; the
// values read there only reach outputs that are masked off.
//
// Tiling: each invocation owns an 8x8 block of C (8 rows, 2 vec4 columns) in sixteen named vec4 registers;
// a workgroup of 64 invocations, an 8x8 grid of blocks, covers 64x64 (the 'regular' tile in src/gpu/kernels.ts).
// No workgroup memory and no barriers: each invocation reads its 8 rows of A and 8 columns of B straight from
// the storage buffers (the caches share them between neighbours). Per step of the K loop an invocation loads
// 16 vec4s and does 256 multiply-adds.
// Every loop over the block is written out by hand: with the accumulators in an array indexed by loop
// counters, a compiler that does not unroll (SwiftShader's JIT is one) keeps the block in memory and
// addresses it element by element. On a CPU implementation each storage-buffer load is a per-lane gather that
// costs far more than the arithmetic, so the block is as large as GPU register files comfortably hold.
// Dims, override constants, bindings and the epilogue (store) are shared by the matmul kernels: matmul_io.wgsl.

// The invocation's block of C: c<i><q> holds row m0 + i, columns 4·(col4 + q) .. +3.
var<private> c00: vec4<f32>;
var<private> c01: vec4<f32>;
var<private> c10: vec4<f32>;
var<private> c11: vec4<f32>;
var<private> c20: vec4<f32>;
var<private> c21: vec4<f32>;
var<private> c30: vec4<f32>;
var<private> c31: vec4<f32>;
var<private> c40: vec4<f32>;
var<private> c41: vec4<f32>;
var<private> c50: vec4<f32>;
var<private> c51: vec4<f32>;
var<private> c60: vec4<f32>;
var<private> c61: vec4<f32>;
var<private> c70: vec4<f32>;
var<private> c71: vec4<f32>;

// NT step: one row of A (four k) against four rows of B (the same four k): four outputs.
fn dot4(acc: vec4<f32>, x: vec4<f32>, y0: vec4<f32>, y1: vec4<f32>, y2: vec4<f32>, y3: vec4<f32>) -> vec4<f32> {
  return acc + vec4<f32>(dot(x, y0), dot(x, y1), dot(x, y2), dot(x, y3));
}

// NN step: one row of A (four k) times the four rows k of B, one vec4 of columns.
fn axpy4(acc: vec4<f32>, x: vec4<f32>, y0: vec4<f32>, y1: vec4<f32>, y2: vec4<f32>, y3: vec4<f32>) -> vec4<f32> {
  return acc + x.x * y0 + x.y * y1 + x.z * y2 + x.w * y3;
}

// Z = X · Wᵀ: rows m0.. of A and rows n0.. of B are both read along K, a vec4 (four k) at a time.
fn nt(m0: u32, n0: u32) {
  let k4n = (dims.K + 3u) / 4u;
  let la = dims.arows - 1u;
  let lb = dims.brows - 1u;
  let ra0 = min(m0, la) * dims.lda;
  let ra1 = min(m0 + 1u, la) * dims.lda;
  let ra2 = min(m0 + 2u, la) * dims.lda;
  let ra3 = min(m0 + 3u, la) * dims.lda;
  let ra4 = min(m0 + 4u, la) * dims.lda;
  let ra5 = min(m0 + 5u, la) * dims.lda;
  let ra6 = min(m0 + 6u, la) * dims.lda;
  let ra7 = min(m0 + 7u, la) * dims.lda;
  let rb0 = min(n0, lb) * dims.ldb;
  let rb1 = min(n0 + 1u, lb) * dims.ldb;
  let rb2 = min(n0 + 2u, lb) * dims.ldb;
  let rb3 = min(n0 + 3u, lb) * dims.ldb;
  let rb4 = min(n0 + 4u, lb) * dims.ldb;
  let rb5 = min(n0 + 5u, lb) * dims.ldb;
  let rb6 = min(n0 + 6u, lb) * dims.ldb;
  let rb7 = min(n0 + 7u, lb) * dims.ldb;
  for (var k = 0u; k < k4n; k++) {
    let y0 = b[rb0 + k];
    let y1 = b[rb1 + k];
    let y2 = b[rb2 + k];
    let y3 = b[rb3 + k];
    let y4 = b[rb4 + k];
    let y5 = b[rb5 + k];
    let y6 = b[rb6 + k];
    let y7 = b[rb7 + k];
    let x0 = a[ra0 + k];
    let x1 = a[ra1 + k];
    let x2 = a[ra2 + k];
    let x3 = a[ra3 + k];
    let x4 = a[ra4 + k];
    let x5 = a[ra5 + k];
    let x6 = a[ra6 + k];
    let x7 = a[ra7 + k];
    c00 = dot4(c00, x0, y0, y1, y2, y3);
    c01 = dot4(c01, x0, y4, y5, y6, y7);
    c10 = dot4(c10, x1, y0, y1, y2, y3);
    c11 = dot4(c11, x1, y4, y5, y6, y7);
    c20 = dot4(c20, x2, y0, y1, y2, y3);
    c21 = dot4(c21, x2, y4, y5, y6, y7);
    c30 = dot4(c30, x3, y0, y1, y2, y3);
    c31 = dot4(c31, x3, y4, y5, y6, y7);
    c40 = dot4(c40, x4, y0, y1, y2, y3);
    c41 = dot4(c41, x4, y4, y5, y6, y7);
    c50 = dot4(c50, x5, y0, y1, y2, y3);
    c51 = dot4(c51, x5, y4, y5, y6, y7);
    c60 = dot4(c60, x6, y0, y1, y2, y3);
    c61 = dot4(c61, x6, y4, y5, y6, y7);
    c70 = dot4(c70, x7, y0, y1, y2, y3);
    c71 = dot4(c71, x7, y4, y5, y6, y7);
  }
}

// dX = δ · W: a vec4 of A (four k) meets four rows of B, each read as the block's two vec4 columns.
fn nn(m0: u32, col4: u32) {
  let k4n = (dims.K + 3u) / 4u;
  let la = dims.arows - 1u;
  let lb = dims.brows - 1u;
  let ra0 = min(m0, la) * dims.lda;
  let ra1 = min(m0 + 1u, la) * dims.lda;
  let ra2 = min(m0 + 2u, la) * dims.lda;
  let ra3 = min(m0 + 3u, la) * dims.lda;
  let ra4 = min(m0 + 4u, la) * dims.lda;
  let ra5 = min(m0 + 5u, la) * dims.lda;
  let ra6 = min(m0 + 6u, la) * dims.lda;
  let ra7 = min(m0 + 7u, la) * dims.lda;
  let q0 = min(col4, dims.ldb - 1u);
  let q1 = min(col4 + 1u, dims.ldb - 1u);
  for (var k = 0u; k < k4n; k++) {
    let r0 = min(4u * k, lb) * dims.ldb;
    let r1 = min(4u * k + 1u, lb) * dims.ldb;
    let r2 = min(4u * k + 2u, lb) * dims.ldb;
    let r3 = min(4u * k + 3u, lb) * dims.ldb;
    let y00 = b[r0 + q0];
    let y10 = b[r1 + q0];
    let y20 = b[r2 + q0];
    let y30 = b[r3 + q0];
    let y01 = b[r0 + q1];
    let y11 = b[r1 + q1];
    let y21 = b[r2 + q1];
    let y31 = b[r3 + q1];
    let x0 = a[ra0 + k];
    let x1 = a[ra1 + k];
    let x2 = a[ra2 + k];
    let x3 = a[ra3 + k];
    let x4 = a[ra4 + k];
    let x5 = a[ra5 + k];
    let x6 = a[ra6 + k];
    let x7 = a[ra7 + k];
    c00 = axpy4(c00, x0, y00, y10, y20, y30);
    c01 = axpy4(c01, x0, y01, y11, y21, y31);
    c10 = axpy4(c10, x1, y00, y10, y20, y30);
    c11 = axpy4(c11, x1, y01, y11, y21, y31);
    c20 = axpy4(c20, x2, y00, y10, y20, y30);
    c21 = axpy4(c21, x2, y01, y11, y21, y31);
    c30 = axpy4(c30, x3, y00, y10, y20, y30);
    c31 = axpy4(c31, x3, y01, y11, y21, y31);
    c40 = axpy4(c40, x4, y00, y10, y20, y30);
    c41 = axpy4(c41, x4, y01, y11, y21, y31);
    c50 = axpy4(c50, x5, y00, y10, y20, y30);
    c51 = axpy4(c51, x5, y01, y11, y21, y31);
    c60 = axpy4(c60, x6, y00, y10, y20, y30);
    c61 = axpy4(c61, x6, y01, y11, y21, y31);
    c70 = axpy4(c70, x7, y00, y10, y20, y30);
    c71 = axpy4(c71, x7, y01, y11, y21, y31);
  }
}

// dW = δᵀ · X: row k of A holds the block's 8 rows of C as two vec4s, row k of B its 8 columns: an outer
// product per k. K is the batch, looped exactly, so stale rows past it are never read.
fn tn(m0: u32, col4: u32) {
  let p0 = min(m0 / 4u, dims.lda - 1u);
  let p1 = min(m0 / 4u + 1u, dims.lda - 1u);
  let q0 = min(col4, dims.ldb - 1u);
  let q1 = min(col4 + 1u, dims.ldb - 1u);
  for (var k = 0u; k < dims.K; k++) {
    let ra = k * dims.lda;
    let rb = k * dims.ldb;
    let x0 = a[ra + p0];
    let x1 = a[ra + p1];
    let y0 = b[rb + q0];
    let y1 = b[rb + q1];
    c00 += x0.x * y0;
    c01 += x0.x * y1;
    c10 += x0.y * y0;
    c11 += x0.y * y1;
    c20 += x0.z * y0;
    c21 += x0.z * y1;
    c30 += x0.w * y0;
    c31 += x0.w * y1;
    c40 += x1.x * y0;
    c41 += x1.x * y1;
    c50 += x1.y * y0;
    c51 += x1.y * y1;
    c60 += x1.z * y0;
    c61 += x1.z * y1;
    c70 += x1.w * y0;
    c71 += x1.w * y1;
  }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  // Consecutive invocations (one SIMD group or warp) step along the tile's columns, where neighbours read
  // neighbouring vec4s of B and C. When N spans at most three 8-column blocks, most invocations of each row
  // would exit at once and leave lanes idle; then they step along the rows instead.
  let along_rows = dims.N <= 24u && dims.M > dims.N;
  let i = select(li / 8u, li % 8u, along_rows);
  let j = select(li % 8u, li / 8u, along_rows);
  let m0 = (wid.y * 8u + i) * 8u;
  let col4 = (wid.x * 8u + j) * 2u;
  if (m0 >= dims.M || 4u * col4 >= dims.N) {
    return;
  }
  switch FORM {
    case 1u: { nn(m0, col4); }
    case 2u: { tn(m0, col4); }
    default: { nt(m0, 4u * col4); }
  }
  var bias0 = vec4<f32>(0.0);
  var bias1 = vec4<f32>(0.0);
  if (EPILOGUE == 2u) {
    bias0 = aux[col4];
    bias1 = aux[min(col4 + 1u, dims.ldc - 1u)];
  }
  store(m0, col4, c00, bias0);
  store(m0, col4 + 1u, c01, bias1);
  store(m0 + 1u, col4, c10, bias0);
  store(m0 + 1u, col4 + 1u, c11, bias1);
  store(m0 + 2u, col4, c20, bias0);
  store(m0 + 2u, col4 + 1u, c21, bias1);
  store(m0 + 3u, col4, c30, bias0);
  store(m0 + 3u, col4 + 1u, c31, bias1);
  store(m0 + 4u, col4, c40, bias0);
  store(m0 + 4u, col4 + 1u, c41, bias1);
  store(m0 + 5u, col4, c50, bias0);
  store(m0 + 5u, col4 + 1u, c51, bias1);
  store(m0 + 6u, col4, c60, bias0);
  store(m0 + 6u, col4 + 1u, c61, bias1);
  store(m0 + 7u, col4, c70, bias0);
  store(m0 + 7u, col4 + 1u, c71, bias1);
}
