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
// Tiling: each invocation owns a TM x (4·TN4) block of C kept in registers; a 8x8 workgroup covers 32x64.
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

const TM: u32 = 4u;
const TN4: u32 = 2u;
const WG: u32 = 8u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> aux: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> act_out: array<vec4<f32>>;

var<private> acc: array<array<vec4<f32>, TN4>, TM>;

fn nt(row0: u32, col0: u32) {
  let k4n = (dims.K + 3u) / 4u;
  for (var k4 = 0u; k4 < k4n; k4++) {
    var av: array<vec4<f32>, TM>;
    for (var i = 0u; i < TM; i++) {
      av[i] = a[min(row0 + i, dims.arows - 1u) * dims.lda + k4];
    }
    for (var j = 0u; j < TN4; j++) {
      let n = col0 + 4u * j;
      let b0 = b[min(n, dims.brows - 1u) * dims.ldb + k4];
      let b1 = b[min(n + 1u, dims.brows - 1u) * dims.ldb + k4];
      let b2 = b[min(n + 2u, dims.brows - 1u) * dims.ldb + k4];
      let b3 = b[min(n + 3u, dims.brows - 1u) * dims.ldb + k4];
      for (var i = 0u; i < TM; i++) {
        acc[i][j] += vec4<f32>(dot(av[i], b0), dot(av[i], b1), dot(av[i], b2), dot(av[i], b3));
      }
    }
  }
}

fn nn(row0: u32, col4: u32) {
  let k4n = (dims.K + 3u) / 4u;
  for (var k4 = 0u; k4 < k4n; k4++) {
    var bv: array<array<vec4<f32>, TN4>, 4>;
    for (var t = 0u; t < 4u; t++) {
      let brow = min(4u * k4 + t, dims.brows - 1u) * dims.ldb;
      for (var j = 0u; j < TN4; j++) {
        bv[t][j] = b[brow + min(col4 + j, dims.ldb - 1u)];
      }
    }
    for (var i = 0u; i < TM; i++) {
      let av = a[min(row0 + i, dims.arows - 1u) * dims.lda + k4];
      for (var j = 0u; j < TN4; j++) {
        acc[i][j] += av.x * bv[0][j] + av.y * bv[1][j] + av.z * bv[2][j] + av.w * bv[3][j];
      }
    }
  }
}

fn tn(row0: u32, col4: u32) {
  // TM == 4: the block's four rows of C are one vec4 of a row of A.
  let a4 = min(row0 / 4u, dims.lda - 1u);
  for (var k = 0u; k < dims.K; k++) {
    let av = a[k * dims.lda + a4];
    for (var j = 0u; j < TN4; j++) {
      let bv = b[k * dims.ldb + min(col4 + j, dims.ldb - 1u)];
      acc[0][j] += av.x * bv;
      acc[1][j] += av.y * bv;
      acc[2][j] += av.z * bv;
      acc[3][j] += av.w * bv;
    }
  }
}

@compute @workgroup_size(WG, WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * TM;
  let col4 = gid.x * TN4;
  if (row0 >= dims.M || 4u * col4 >= dims.N) {
    return;
  }
  switch FORM {
    case 1u: { nn(row0, col4); }
    case 2u: { tn(row0, col4); }
    default: { nt(row0, 4u * col4); }
  }
  for (var i = 0u; i < TM; i++) {
    let m = row0 + i;
    if (m >= dims.M) {
      break;
    }
    for (var j = 0u; j < TN4; j++) {
      let n = 4u * (col4 + j);
      if (n >= dims.N) {
        break;
      }
      // Lanes past N are pad columns: they must stay zero, since later products read them as K.
      let keep = vec4<u32>(n, n + 1u, n + 2u, n + 3u) < vec4<u32>(dims.N);
      let idx = m * dims.ldc + col4 + j;
      var v = acc[i][j];
      switch EPILOGUE {
        case 1u: { v += c[idx]; }
        case 2u: { v += aux[col4 + j]; }
        case 3u: { v *= dact4(aux[idx]); }
        default: {}
      }
      c[idx] = select(vec4<f32>(0.0), v, keep);
      if (EPILOGUE == 2u && ACT != 0u && ACT != 9u) {
        act_out[idx] = select(vec4<f32>(0.0), act4(v), keep);
      }
    }
  }
}
