// activation: elementwise forward out = act(inp), and backward dinp = dout ⊙ act'(inp) (the Jacobian of a
// coordinatewise activation is diagonal). Used where an activation is not fused into a matmul epilogue
// (the sigmoid of binary cross-entropy's predictions) and to test activations.wgsl on its own.
// Shapes: inp, dout, out [M, ld] row-major, ld (vec4 units) covering N columns; pad lanes are written as zero.
// Needs activations.wgsl prepended. The grid is 2-D so more than 65535 workgroups can run.

struct Dims {
  M: u32,
  N: u32,
  ld: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> inp: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

fn lanes(i: u32) -> vec4<bool> {
  let n = 4u * (i % dims.ld);
  return vec4<u32>(n, n + 1u, n + 2u, n + 3u) < vec4<u32>(dims.N);
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= dims.M * dims.ld) {
    return;
  }
  out[i] = select(vec4<f32>(0.0), act4(inp[i]), lanes(i));
}

@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= dims.M * dims.ld) {
    return;
  }
  out[i] = select(vec4<f32>(0.0), dout[i] * dact4(inp[i]), lanes(i));
}
