// softmax backward along each row, through the full Jacobian: dinp = s ⊙ (dout − ⟨s, dout⟩), s = softmax(inp)
// as the forward pass stored it. Shapes: s, dout, dinp [M, ld] row-major (ld in floats), N real columns;
// one invocation per row, 2-D grid.

struct Dims {
  M: u32,
  N: u32,
  ld: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read_write> dinp: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let m = gid.x + gid.y * nwg.x * 64u;
  if (m >= dims.M) {
    return;
  }
  let row = m * dims.ld;
  var dot_sv = 0.0;
  for (var n = 0u; n < dims.N; n++) {
    dot_sv += s[row + n] * dout[row + n];
  }
  for (var n = 0u; n < dims.N; n++) {
    dinp[row + n] = s[row + n] * (dout[row + n] - dot_sv);
  }
}
