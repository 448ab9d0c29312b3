// bias_grad: dbias[n] = Σ_{m < M} dout[m, n] (the batch mean is already folded into dout), or += that sum
// when accumulating micro-batches. Shapes: dout [M, ld] row-major (ld in vec4 units), dbias [ld] vec4s.
// One workgroup per vec4 of columns: 16 invocations stride down the rows, each reading four rows (16 apart)
// per iteration into independent sums so several loads are in flight, then one barrier and invocation 0 adds
// the 16 partial sums. Few invocations and one barrier because on a CPU implementation the barrier is what costs:
// SwiftShader runs every 4 invocations of a workgroup that has one as a coroutine, so at training batch
// sizes 64 invocations and a tree of barriers cost far more than the loads. On a GPU 16 row strides with
// four loads in flight each still keep the memory busy.

struct Dims {
  M: u32,
  ld: u32,
  accumulate: u32,
}

const WG: u32 = 16u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dbias: array<vec4<f32>>;

var<workgroup> partial: array<vec4<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let col4 = wid.x;
  let stride = WG * dims.ld;
  var s0 = vec4<f32>(0.0);
  var s1 = vec4<f32>(0.0);
  var s2 = vec4<f32>(0.0);
  var s3 = vec4<f32>(0.0);
  var m = tid;
  var i = tid * dims.ld + col4;
  for (; m + 3u * WG < dims.M; m += 4u * WG) {
    s0 += dout[i];
    s1 += dout[i + stride];
    s2 += dout[i + 2u * stride];
    s3 += dout[i + 3u * stride];
    i += 4u * stride;
  }
  for (; m < dims.M; m += WG) {
    s0 += dout[i];
    i += stride;
  }
  partial[tid] = (s0 + s1) + (s2 + s3);
  workgroupBarrier();
  if (tid == 0u) {
    var total = partial[0];
    for (var t = 1u; t < WG; t++) {
      total += partial[t];
    }
    dbias[col4] = select(total, dbias[col4] + total, dims.accumulate != 0u);
  }
}
