// bias_grad: dbias[n] = Σ_{m < M} dout[m, n] (the batch mean is already folded into dout), or += that sum
// when accumulating micro-batches. Shapes: dout [M, ld] row-major (ld in vec4 units), dbias [ld] vec4s.
// One workgroup per vec4 of columns: 64 invocations stride down the rows, then a tree sum in workgroup memory.

struct Dims {
  M: u32,
  ld: u32,
  accumulate: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dbias: array<vec4<f32>>;

var<workgroup> partial: array<vec4<f32>, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let col4 = wid.x;
  var sum = vec4<f32>(0.0);
  for (var m = tid; m < dims.M; m += 64u) {
    sum += dout[m * dims.ld + col4];
  }
  partial[tid] = sum;
  workgroupBarrier();
  for (var stride = 32u; stride > 0u; stride >>= 1u) {
    if (tid < stride) {
      partial[tid] += partial[tid + stride];
    }
    workgroupBarrier();
  }
  if (tid == 0u) {
    dbias[col4] = select(partial[0], dbias[col4] + partial[0], dims.accumulate != 0u);
  }
}
