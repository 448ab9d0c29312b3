// matmul_io: what every matmul kernel shares, prepended to matmul.wgsl, matmul_wide.wgsl and matmul_tiled.wgsl
// (after activations.wgsl, whose act4/dact4 the epilogues call): the dimensions, the override constants that
// pick the product and the epilogue, the bindings, and the epilogue that stores one vec4 of C. The kernels
// differ only in how they block the product; their headers describe the forms and the layout.
//   Dims: M x N is C; K the shared dimension; lda, ldb, ldc leading dimensions in vec4 units; arows, brows the
//   rows stored in A and B (loads are clamped or zeroed past them).
// Bindings: 0 dims, 1 A, 2 B, 3 C, 4 aux (bias for EPILOGUE 2, Z_prev for 3), 5 act_out (A = act(Z), EPILOGUE 2
// with ACT != identity).

struct Dims {
  M: u32,
  N: u32,
  K: u32,
  lda: u32,
  ldb: u32,
  ldc: u32,
  arows: u32,
  brows: u32,
}

override FORM: u32 = 0u;
override EPILOGUE: u32 = 0u;
// TN only, in the kernels that implement it (matmul_wide.wgsl's two entry points): also write the bias gradient,
// Σ_k A[k, m], to act_out, saving the separate bias_grad dispatch.
override BIAS_GRAD: bool = false;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> aux: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> act_out: array<vec4<f32>>;

// Epilogue for one vec4 of C at row m, vec4 column q; bias is aux[q], read once per column by the caller.
fn store(m: u32, q: u32, acc: vec4<f32>, bias: vec4<f32>) {
  let n = 4u * q;
  if (m >= dims.M || n >= dims.N) {
    return;
  }
  // Lanes past N are pad columns: they must stay zero, since later products read them as K.
  let keep = vec4<u32>(n, n + 1u, n + 2u, n + 3u) < vec4<u32>(dims.N);
  let idx = m * dims.ldc + q;
  var v = acc;
  switch EPILOGUE {
    case 1u: { v += c[idx]; }
    case 2u: { v += bias; }
    case 3u: { v *= dact4(aux[idx]); }
    default: {}
  }
  c[idx] = select(vec4<f32>(0.0), v, keep);
  if (EPILOGUE == 2u && ACT != 0u && ACT != 9u) {
    act_out[idx] = select(vec4<f32>(0.0), act4(v), keep);
  }
}

// The bias gradient of the four rows of C in vec4 q (Σ over K of A's column), written or, with EPILOGUE 1, added;
// by the invocations whose block starts at column 0. Pad rows sum A's zero pad columns and stay zero.
fn store_bias_grad(q: u32, s: vec4<f32>) {
  if (4u * q >= dims.M) {
    return;
  }
  var v = s;
  if (EPILOGUE == 1u) {
    v += act_out[q];
  }
  act_out[q] = v;
}
