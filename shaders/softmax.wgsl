// softmax along each row: out[m, n] = exp(inp[m, n] − max_m) / Σ_n' exp(inp[m, n'] − max_m).
// Shapes: inp, out [M, ld] row-major (ld in floats), N real columns; one invocation per row, 2-D grid.

struct Dims {
  M: u32,
  N: u32,
  ld: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let m = gid.x + gid.y * nwg.x * 64u;
  if (m >= dims.M) {
    return;
  }
  let row = m * dims.ld;
  var mx = inp[row];
  for (var n = 1u; n < dims.N; n++) {
    mx = max(mx, inp[row + n]);
  }
  var sum = 0.0;
  for (var n = 0u; n < dims.N; n++) {
    let e = exp(inp[row + n] - mx);
    out[row + n] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var n = 0u; n < dims.N; n++) {
    out[row + n] *= inv;
  }
}
