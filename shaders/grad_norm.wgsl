// grad_norm: the squared global norm of the gradient, norm[0] = Σ_i g_i², for clipping by global norm.
// Shapes: grads [count] vec4s over the flat buffer (zero pads add nothing); norm [1].
// One workgroup of 256: strided partial sums, then a tree sum in workgroup memory.

struct Dims {
  count: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> grads: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> norm: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32) {
  var sum = 0.0;
  for (var i = tid; i < dims.count; i += 256u) {
    let g = grads[i];
    sum += dot(g, g);
  }
  partial[tid] = sum;
  workgroupBarrier();
  for (var stride = 128u; stride > 0u; stride >>= 1u) {
    if (tid < stride) {
      partial[tid] += partial[tid + stride];
    }
    workgroupBarrier();
  }
  if (tid == 0u) {
    norm[0] = partial[0];
  }
}
