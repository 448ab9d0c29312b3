// finite_check: counts the values of a buffer that are NaN or ±Inf and finds the first, so a large dataset is
// validated where it already lives instead of in a CPU pass over every value.
//   result[0] += number of non-finite values in data[0 .. count);  result[1] = min index of one (else unchanged)
// Shapes: data [count] f32 bits as u32; result [2] u32, initialised to (0, 0xffffffff). 2-D grid of 64-wide groups.

struct Dims {
  count: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> data: array<u32>;
@group(0) @binding(2) var<storage, read_write> result: array<atomic<u32>, 2>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= dims.count) {
    return;
  }
  // An f32 is NaN or ±Inf exactly when its exponent bits are all ones; reading bits avoids fast-math folding.
  if ((data[i] & 0x7f800000u) == 0x7f800000u) {
    atomicAdd(&result[0], 1u);
    atomicMin(&result[1], i);
  }
}
