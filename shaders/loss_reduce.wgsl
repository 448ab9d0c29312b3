// loss_reduce: loss_out[step.slot] = scale · Σ_{m < M} row_loss[m] (+ the slot's value when accumulating
// micro-batches). The result stays on the GPU: a step never reads it back, a later copy does.
// One workgroup of 256: strided partial sums, then a tree sum in workgroup memory.

struct Dims {
  M: u32,
  scale: f32,
  accumulate: u32,
}

struct Step {
  lr: f32,
  t: f32,
  slot: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> row_loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss_out: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) tid: u32) {
  var sum = 0.0;
  for (var m = tid; m < dims.M; m += 256u) {
    sum += row_loss[m];
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
    let v = partial[0] * dims.scale;
    loss_out[step.slot] = select(v, loss_out[step.slot] + v, dims.accumulate != 0u);
  }
}
