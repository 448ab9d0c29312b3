// matmul_wide: the same three products and epilogues as matmul.wgsl, with a 16x16 block of C per invocation.
//
//   FORM 0 (NT)  A = X [M, K], B = W [N, K]   forward   Z = X · Wᵀ        (EPILOGUE 2: + bias, act)
//   FORM 1 (NN)  A = δ [M, K], B = W [K, N]   backward  dX = δ · W        (EPILOGUE 3: ⊙ act'(Z_prev))
//   FORM 2 (TN)  A = δ [K, M], B = X [K, N]   backward  dW = δᵀ · X       (EPILOGUE 0 store, 1 accumulate)
//
// Dims, bindings and the epilogue are matmul_io.wgsl's; layout and clamping those of matmul.wgsl (see its
// header). Only the blocking differs. Each invocation owns 16 rows x 16 columns of C (sixteen Rows of four
// vec4s), and a workgroup of 64 invocations, an 8x8 grid of blocks, covers 128x128 (the 'wide' tile in
// src/gpu/kernels.ts).
// Per step of the K loop an invocation loads 32 vec4s for 1024 multiply-adds, twice the ratio of the 8x8
// block. That pays where a load costs far more than arithmetic and registers spill cheaply to a cache: on
// CPU implementations of WebGPU such as SwiftShader, where every storage load is an emulated per-lane
// gather. On GPUs 256 live accumulators exceed the register file, so src/gpu/autotune.ts gives it to CPU adapters
// only. The entry point is in matmul_wide_main.wgsl; matmul_wide_subgroup.wgsl is another, sharing A's loads.

// Sixteen consecutive values along a row: of C (an accumulator row), or of B (a row of the TN form).
struct Row {
  q0: vec4<f32>,
  q1: vec4<f32>,
  q2: vec4<f32>,
  q3: vec4<f32>,
}

// Sixteen vec4s of B for one step of K: in NT, rows n0..n0+15 at four k (y<j>); in NN, four rows k of B, each
// as the block's sixteen columns (y<kk><q>).
struct Panel {
  y0: vec4<f32>,
  y1: vec4<f32>,
  y2: vec4<f32>,
  y3: vec4<f32>,
  y4: vec4<f32>,
  y5: vec4<f32>,
  y6: vec4<f32>,
  y7: vec4<f32>,
  y8: vec4<f32>,
  y9: vec4<f32>,
  y10: vec4<f32>,
  y11: vec4<f32>,
  y12: vec4<f32>,
  y13: vec4<f32>,
  y14: vec4<f32>,
  y15: vec4<f32>,
}

// The invocation's block of C: r<i> holds row m0 + i.
var<private> r0: Row;
var<private> r1: Row;
var<private> r2: Row;
var<private> r3: Row;
var<private> r4: Row;
var<private> r5: Row;
var<private> r6: Row;
var<private> r7: Row;
var<private> r8: Row;
var<private> r9: Row;
var<private> r10: Row;
var<private> r11: Row;
var<private> r12: Row;
var<private> r13: Row;
var<private> r14: Row;
var<private> r15: Row;

// NT step: one row of A (four k) against the sixteen rows of B: sixteen outputs.
fn nt_row(acc: Row, x: vec4<f32>, p: Panel) -> Row {
  return Row(
    acc.q0 + vec4<f32>(dot(x, p.y0), dot(x, p.y1), dot(x, p.y2), dot(x, p.y3)),
    acc.q1 + vec4<f32>(dot(x, p.y4), dot(x, p.y5), dot(x, p.y6), dot(x, p.y7)),
    acc.q2 + vec4<f32>(dot(x, p.y8), dot(x, p.y9), dot(x, p.y10), dot(x, p.y11)),
    acc.q3 + vec4<f32>(dot(x, p.y12), dot(x, p.y13), dot(x, p.y14), dot(x, p.y15)),
  );
}

// NN step: one row of A (four k) times four rows of B (y0..y3 row k, y4..y7 row k+1, ...).
fn nn_row(acc: Row, x: vec4<f32>, p: Panel) -> Row {
  return Row(
    acc.q0 + x.x * p.y0 + x.y * p.y4 + x.z * p.y8 + x.w * p.y12,
    acc.q1 + x.x * p.y1 + x.y * p.y5 + x.z * p.y9 + x.w * p.y13,
    acc.q2 + x.x * p.y2 + x.y * p.y6 + x.z * p.y10 + x.w * p.y14,
    acc.q3 + x.x * p.y3 + x.y * p.y7 + x.z * p.y11 + x.w * p.y15,
  );
}

// TN step: one value of A times a row of B.
fn tn_row(acc: Row, s: f32, y: Row) -> Row {
  return Row(acc.q0 + s * y.q0, acc.q1 + s * y.q1, acc.q2 + s * y.q2, acc.q3 + s * y.q3);
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
  let ra8 = min(m0 + 8u, la) * dims.lda;
  let ra9 = min(m0 + 9u, la) * dims.lda;
  let ra10 = min(m0 + 10u, la) * dims.lda;
  let ra11 = min(m0 + 11u, la) * dims.lda;
  let ra12 = min(m0 + 12u, la) * dims.lda;
  let ra13 = min(m0 + 13u, la) * dims.lda;
  let ra14 = min(m0 + 14u, la) * dims.lda;
  let ra15 = min(m0 + 15u, la) * dims.lda;
  let rb0 = min(n0, lb) * dims.ldb;
  let rb1 = min(n0 + 1u, lb) * dims.ldb;
  let rb2 = min(n0 + 2u, lb) * dims.ldb;
  let rb3 = min(n0 + 3u, lb) * dims.ldb;
  let rb4 = min(n0 + 4u, lb) * dims.ldb;
  let rb5 = min(n0 + 5u, lb) * dims.ldb;
  let rb6 = min(n0 + 6u, lb) * dims.ldb;
  let rb7 = min(n0 + 7u, lb) * dims.ldb;
  let rb8 = min(n0 + 8u, lb) * dims.ldb;
  let rb9 = min(n0 + 9u, lb) * dims.ldb;
  let rb10 = min(n0 + 10u, lb) * dims.ldb;
  let rb11 = min(n0 + 11u, lb) * dims.ldb;
  let rb12 = min(n0 + 12u, lb) * dims.ldb;
  let rb13 = min(n0 + 13u, lb) * dims.ldb;
  let rb14 = min(n0 + 14u, lb) * dims.ldb;
  let rb15 = min(n0 + 15u, lb) * dims.ldb;
  for (var k = 0u; k < k4n; k++) {
    let p = Panel(
      b[rb0 + k],
      b[rb1 + k],
      b[rb2 + k],
      b[rb3 + k],
      b[rb4 + k],
      b[rb5 + k],
      b[rb6 + k],
      b[rb7 + k],
      b[rb8 + k],
      b[rb9 + k],
      b[rb10 + k],
      b[rb11 + k],
      b[rb12 + k],
      b[rb13 + k],
      b[rb14 + k],
      b[rb15 + k],
    );
    r0 = nt_row(r0, a[ra0 + k], p);
    r1 = nt_row(r1, a[ra1 + k], p);
    r2 = nt_row(r2, a[ra2 + k], p);
    r3 = nt_row(r3, a[ra3 + k], p);
    r4 = nt_row(r4, a[ra4 + k], p);
    r5 = nt_row(r5, a[ra5 + k], p);
    r6 = nt_row(r6, a[ra6 + k], p);
    r7 = nt_row(r7, a[ra7 + k], p);
    r8 = nt_row(r8, a[ra8 + k], p);
    r9 = nt_row(r9, a[ra9 + k], p);
    r10 = nt_row(r10, a[ra10 + k], p);
    r11 = nt_row(r11, a[ra11 + k], p);
    r12 = nt_row(r12, a[ra12 + k], p);
    r13 = nt_row(r13, a[ra13 + k], p);
    r14 = nt_row(r14, a[ra14 + k], p);
    r15 = nt_row(r15, a[ra15 + k], p);
  }
}

// dX = δ · W: a vec4 of A (four k) meets four rows of B, each read as the block's four vec4 columns.
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
  let ra8 = min(m0 + 8u, la) * dims.lda;
  let ra9 = min(m0 + 9u, la) * dims.lda;
  let ra10 = min(m0 + 10u, la) * dims.lda;
  let ra11 = min(m0 + 11u, la) * dims.lda;
  let ra12 = min(m0 + 12u, la) * dims.lda;
  let ra13 = min(m0 + 13u, la) * dims.lda;
  let ra14 = min(m0 + 14u, la) * dims.lda;
  let ra15 = min(m0 + 15u, la) * dims.lda;
  let q0 = min(col4, dims.ldb - 1u);
  let q1 = min(col4 + 1u, dims.ldb - 1u);
  let q2 = min(col4 + 2u, dims.ldb - 1u);
  let q3 = min(col4 + 3u, dims.ldb - 1u);
  for (var k = 0u; k < k4n; k++) {
    let s0 = min(4u * k, lb) * dims.ldb;
    let s1 = min(4u * k + 1u, lb) * dims.ldb;
    let s2 = min(4u * k + 2u, lb) * dims.ldb;
    let s3 = min(4u * k + 3u, lb) * dims.ldb;
    let p = Panel(
      b[s0 + q0], b[s0 + q1], b[s0 + q2], b[s0 + q3],
      b[s1 + q0], b[s1 + q1], b[s1 + q2], b[s1 + q3],
      b[s2 + q0], b[s2 + q1], b[s2 + q2], b[s2 + q3],
      b[s3 + q0], b[s3 + q1], b[s3 + q2], b[s3 + q3],
    );
    r0 = nn_row(r0, a[ra0 + k], p);
    r1 = nn_row(r1, a[ra1 + k], p);
    r2 = nn_row(r2, a[ra2 + k], p);
    r3 = nn_row(r3, a[ra3 + k], p);
    r4 = nn_row(r4, a[ra4 + k], p);
    r5 = nn_row(r5, a[ra5 + k], p);
    r6 = nn_row(r6, a[ra6 + k], p);
    r7 = nn_row(r7, a[ra7 + k], p);
    r8 = nn_row(r8, a[ra8 + k], p);
    r9 = nn_row(r9, a[ra9 + k], p);
    r10 = nn_row(r10, a[ra10 + k], p);
    r11 = nn_row(r11, a[ra11 + k], p);
    r12 = nn_row(r12, a[ra12 + k], p);
    r13 = nn_row(r13, a[ra13 + k], p);
    r14 = nn_row(r14, a[ra14 + k], p);
    r15 = nn_row(r15, a[ra15 + k], p);
  }
}

// dW = δᵀ · X: row k of A holds the block's 16 rows of C as four vec4s, row k of B its 16 columns: an outer
// product per k. K is the batch, looped exactly, so stale rows past it are never read. Four k per trip, each
// row of the block written back once per trip.
fn tn(m0: u32, col4: u32) {
  let p0 = min(m0 / 4u, dims.lda - 1u);
  let p1 = min(m0 / 4u + 1u, dims.lda - 1u);
  let p2 = min(m0 / 4u + 2u, dims.lda - 1u);
  let p3 = min(m0 / 4u + 3u, dims.lda - 1u);
  let q0 = min(col4, dims.ldb - 1u);
  let q1 = min(col4 + 1u, dims.ldb - 1u);
  let q2 = min(col4 + 2u, dims.ldb - 1u);
  let q3 = min(col4 + 3u, dims.ldb - 1u);
  let k4 = dims.K & ~3u;
  var s0 = vec4<f32>(0.0);
  var s1 = vec4<f32>(0.0);
  var s2 = vec4<f32>(0.0);
  var s3 = vec4<f32>(0.0);
  for (var k = 0u; k < k4; k += 4u) {
    let ra0 = (k + 0u) * dims.lda;
    let rb0 = (k + 0u) * dims.ldb;
    let x00 = a[ra0 + p0];
    let x01 = a[ra0 + p1];
    let x02 = a[ra0 + p2];
    let x03 = a[ra0 + p3];
    let y0 = Row(b[rb0 + q0], b[rb0 + q1], b[rb0 + q2], b[rb0 + q3]);
    let ra1 = (k + 1u) * dims.lda;
    let rb1 = (k + 1u) * dims.ldb;
    let x10 = a[ra1 + p0];
    let x11 = a[ra1 + p1];
    let x12 = a[ra1 + p2];
    let x13 = a[ra1 + p3];
    let y1 = Row(b[rb1 + q0], b[rb1 + q1], b[rb1 + q2], b[rb1 + q3]);
    let ra2 = (k + 2u) * dims.lda;
    let rb2 = (k + 2u) * dims.ldb;
    let x20 = a[ra2 + p0];
    let x21 = a[ra2 + p1];
    let x22 = a[ra2 + p2];
    let x23 = a[ra2 + p3];
    let y2 = Row(b[rb2 + q0], b[rb2 + q1], b[rb2 + q2], b[rb2 + q3]);
    let ra3 = (k + 3u) * dims.lda;
    let rb3 = (k + 3u) * dims.ldb;
    let x30 = a[ra3 + p0];
    let x31 = a[ra3 + p1];
    let x32 = a[ra3 + p2];
    let x33 = a[ra3 + p3];
    let y3 = Row(b[rb3 + q0], b[rb3 + q1], b[rb3 + q2], b[rb3 + q3]);
    if (BIAS_GRAD) {
      s0 += (x00 + x10) + (x20 + x30);
      s1 += (x01 + x11) + (x21 + x31);
      s2 += (x02 + x12) + (x22 + x32);
      s3 += (x03 + x13) + (x23 + x33);
    }
    r0 = tn_row(tn_row(tn_row(tn_row(r0, x00.x, y0), x10.x, y1), x20.x, y2), x30.x, y3);
    r1 = tn_row(tn_row(tn_row(tn_row(r1, x00.y, y0), x10.y, y1), x20.y, y2), x30.y, y3);
    r2 = tn_row(tn_row(tn_row(tn_row(r2, x00.z, y0), x10.z, y1), x20.z, y2), x30.z, y3);
    r3 = tn_row(tn_row(tn_row(tn_row(r3, x00.w, y0), x10.w, y1), x20.w, y2), x30.w, y3);
    r4 = tn_row(tn_row(tn_row(tn_row(r4, x01.x, y0), x11.x, y1), x21.x, y2), x31.x, y3);
    r5 = tn_row(tn_row(tn_row(tn_row(r5, x01.y, y0), x11.y, y1), x21.y, y2), x31.y, y3);
    r6 = tn_row(tn_row(tn_row(tn_row(r6, x01.z, y0), x11.z, y1), x21.z, y2), x31.z, y3);
    r7 = tn_row(tn_row(tn_row(tn_row(r7, x01.w, y0), x11.w, y1), x21.w, y2), x31.w, y3);
    r8 = tn_row(tn_row(tn_row(tn_row(r8, x02.x, y0), x12.x, y1), x22.x, y2), x32.x, y3);
    r9 = tn_row(tn_row(tn_row(tn_row(r9, x02.y, y0), x12.y, y1), x22.y, y2), x32.y, y3);
    r10 = tn_row(tn_row(tn_row(tn_row(r10, x02.z, y0), x12.z, y1), x22.z, y2), x32.z, y3);
    r11 = tn_row(tn_row(tn_row(tn_row(r11, x02.w, y0), x12.w, y1), x22.w, y2), x32.w, y3);
    r12 = tn_row(tn_row(tn_row(tn_row(r12, x03.x, y0), x13.x, y1), x23.x, y2), x33.x, y3);
    r13 = tn_row(tn_row(tn_row(tn_row(r13, x03.y, y0), x13.y, y1), x23.y, y2), x33.y, y3);
    r14 = tn_row(tn_row(tn_row(tn_row(r14, x03.z, y0), x13.z, y1), x23.z, y2), x33.z, y3);
    r15 = tn_row(tn_row(tn_row(tn_row(r15, x03.w, y0), x13.w, y1), x23.w, y2), x33.w, y3);
  }
  for (var k = k4; k < dims.K; k++) {
    let ra = k * dims.lda;
    let rb = k * dims.ldb;
    let x0 = a[ra + p0];
    let x1 = a[ra + p1];
    let x2 = a[ra + p2];
    let x3 = a[ra + p3];
    let y = Row(b[rb + q0], b[rb + q1], b[rb + q2], b[rb + q3]);
    if (BIAS_GRAD) {
      s0 += x0;
      s1 += x1;
      s2 += x2;
      s3 += x3;
    }
    r0 = tn_row(r0, x0.x, y);
    r1 = tn_row(r1, x0.y, y);
    r2 = tn_row(r2, x0.z, y);
    r3 = tn_row(r3, x0.w, y);
    r4 = tn_row(r4, x1.x, y);
    r5 = tn_row(r5, x1.y, y);
    r6 = tn_row(r6, x1.z, y);
    r7 = tn_row(r7, x1.w, y);
    r8 = tn_row(r8, x2.x, y);
    r9 = tn_row(r9, x2.y, y);
    r10 = tn_row(r10, x2.z, y);
    r11 = tn_row(r11, x2.w, y);
    r12 = tn_row(r12, x3.x, y);
    r13 = tn_row(r13, x3.y, y);
    r14 = tn_row(r14, x3.z, y);
    r15 = tn_row(r15, x3.w, y);
  }
  if (BIAS_GRAD && col4 == 0u) {
    store_bias_grad(m0 / 4u, s0);
    store_bias_grad(m0 / 4u + 1u, s1);
    store_bias_grad(m0 / 4u + 2u, s2);
    store_bias_grad(m0 / 4u + 3u, s3);
  }
}

// One row of the block through the epilogue.
fn store_row(m: u32, col4: u32, r: Row, bias: Row) {
  store(m, col4, r.q0, bias.q0);
  store(m, col4 + 1u, r.q1, bias.q1);
  store(m, col4 + 2u, r.q2, bias.q2);
  store(m, col4 + 3u, r.q3, bias.q3);
}

// The block's product, each invocation loading all it needs.
fn product(m0: u32, col4: u32) {
  switch FORM {
    case 1u: { nn(m0, col4); }
    case 2u: { tn(m0, col4); }
    default: { nt(m0, 4u * col4); }
  }
}

// The block through the epilogue.
fn store_block(m0: u32, col4: u32) {
  var bias = Row(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  if (EPILOGUE == 2u) {
    let last = dims.ldc - 1u;
    bias = Row(aux[col4], aux[min(col4 + 1u, last)], aux[min(col4 + 2u, last)], aux[min(col4 + 3u, last)]);
  }
  store_row(m0, col4, r0, bias);
  store_row(m0 + 1u, col4, r1, bias);
  store_row(m0 + 2u, col4, r2, bias);
  store_row(m0 + 3u, col4, r3, bias);
  store_row(m0 + 4u, col4, r4, bias);
  store_row(m0 + 5u, col4, r5, bias);
  store_row(m0 + 6u, col4, r6, bias);
  store_row(m0 + 7u, col4, r7, bias);
  store_row(m0 + 8u, col4, r8, bias);
  store_row(m0 + 9u, col4, r9, bias);
  store_row(m0 + 10u, col4, r10, bias);
  store_row(m0 + 11u, col4, r11, bias);
  store_row(m0 + 12u, col4, r12, bias);
  store_row(m0 + 13u, col4, r13, bias);
  store_row(m0 + 14u, col4, r14, bias);
  store_row(m0 + 15u, col4, r15, bias);
}
