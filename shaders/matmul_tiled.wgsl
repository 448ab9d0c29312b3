// matmul_tiled: the same three products and epilogues as matmul.wgsl, staged through workgroup memory.
//
//   FORM 0 (NT)  A = X [M, K], B = W [N, K]   forward   Z = X · Wᵀ        (EPILOGUE 2: + bias, act)
//   FORM 1 (NN)  A = δ [M, K], B = W [K, N]   backward  dX = δ · W        (EPILOGUE 3: ⊙ act'(Z_prev))
//   FORM 2 (TN)  A = δ [K, M], B = X [K, N]   backward  dW = δᵀ · X       (EPILOGUE 0 store, 1 accumulate)
//
// Dims, bindings and the epilogue are matmul_io.wgsl's, the layout that of matmul.wgsl. The blocking is the classic
// GPU one: a workgroup of 16x16 invocations owns a 64x64 tile of C, each invocation a 4x4 block (four rows,
// one vec4 of columns). The K loop runs in steps of 16: the workgroup copies the 64x16 panel of op(A) and the
// 16x64 panel of op(B) into workgroup memory (one vec4 load of each per invocation, neighbours reading
// neighbouring addresses), waits at a barrier, and each invocation then reads its four rows and four columns
// of every k from there. Both panels are kept k-major with vec4s along M and along N, whatever the form, so the
// inner loop is the same for all three: two vec4 reads, sixteen multiply-adds.
// Loads outside the stored extent (k past K, rows past the operand) are replaced by zeros: in the TN form rows
// past K may hold stale values of an earlier, larger batch.
// This suits GPUs, whose workgroup memory is fast and whose barriers are cheap; on a CPU implementation the
// barriers cost more than they save (matmul_wide.wgsl is for those). src/gpu/autotune.ts times it against
// matmul.wgsl on GPU adapters.

const KT: u32 = 16u;

// Panels for one step of K: as4[k * 16 + r] holds op(A) rows 4r..4r+3 of the tile at k; bs4[k * 16 + q] holds
// op(B) columns 4q..4q+3 at k.
var<workgroup> as4: array<vec4<f32>, 256>;
var<workgroup> bs4: array<vec4<f32>, 256>;

// vec4 `q` of row `row` of a row-major operand with `rows` rows and `ld` vec4s per row, or zeros outside it.
fn load_a(row: u32, q: u32, rows: u32) -> vec4<f32> {
  if (row >= rows || q >= dims.lda) {
    return vec4<f32>(0.0);
  }
  return a[row * dims.lda + q];
}

fn load_b(row: u32, q: u32, rows: u32) -> vec4<f32> {
  if (row >= rows || q >= dims.ldb) {
    return vec4<f32>(0.0);
  }
  return b[row * dims.ldb + q];
}

// Writes four consecutive k (a vec4 read along K) of one tile row or column into a k-major panel slot.
fn scatter_a(k: u32, r: u32, v: vec4<f32>) {
  as4[k * 16u + r / 4u][r % 4u] = v.x;
  as4[(k + 1u) * 16u + r / 4u][r % 4u] = v.y;
  as4[(k + 2u) * 16u + r / 4u][r % 4u] = v.z;
  as4[(k + 3u) * 16u + r / 4u][r % 4u] = v.w;
}

fn scatter_b(k: u32, n: u32, v: vec4<f32>) {
  bs4[k * 16u + n / 4u][n % 4u] = v.x;
  bs4[(k + 1u) * 16u + n / 4u][n % 4u] = v.y;
  bs4[(k + 2u) * 16u + n / 4u][n % 4u] = v.z;
  bs4[(k + 3u) * 16u + n / 4u][n % 4u] = v.w;
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
  let m0 = wid.y * 64u;
  let n0 = wid.x * 64u;
  if (m0 >= dims.M || n0 >= dims.N) {
    return;
  }
  let tx = lid.x; // vec4 column of the tile this invocation computes
  let ty = lid.y; // its rows are 4ty .. 4ty+3
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < dims.K; k0 += KT) {
    // Stage the panels: 256 invocations, one vec4 of each.
    switch FORM {
      case 1u: {
        // A = δ [M, K] read along K; B = W [K, N] read along N.
        let r = t / 4u;
        let kq = t % 4u;
        scatter_a(4u * kq, r, load_a(m0 + r, k0 / 4u + kq, dims.arows));
        bs4[t] = load_b(k0 + t / 16u, n0 / 4u + t % 16u, min(dims.brows, dims.K));
      }
      case 2u: {
        // A = δ [K, M] and B = X [K, N], both read along a row k; rows past K are zeros.
        as4[t] = load_a(k0 + t / 16u, m0 / 4u + t % 16u, min(dims.arows, dims.K));
        bs4[t] = load_b(k0 + t / 16u, n0 / 4u + t % 16u, min(dims.brows, dims.K));
      }
      default: {
        // A = X [M, K] and B = W [N, K], both read along K.
        let r = t / 4u;
        let kq = t % 4u;
        scatter_a(4u * kq, r, load_a(m0 + r, k0 / 4u + kq, dims.arows));
        scatter_b(4u * kq, r, load_b(n0 + r, k0 / 4u + kq, dims.brows));
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < KT; k++) {
      let x = as4[k * 16u + ty];
      let y = bs4[k * 16u + tx];
      acc0 += x.x * y;
      acc1 += x.y * y;
      acc2 += x.z * y;
      acc3 += x.w * y;
    }
    workgroupBarrier();
  }
  let q = n0 / 4u + tx;
  var bias = vec4<f32>(0.0);
  if (EPILOGUE == 2u) {
    bias = aux[min(q, dims.ldc - 1u)];
  }
  let m = m0 + 4u * ty;
  store(m, q, acc0, bias);
  store(m + 1u, q, acc1, bias);
  store(m + 2u, q, acc2, bias);
  store(m + 3u, q, acc3, bias);
}
