// sgd: plain stochastic gradient descent over the flat parameter buffer, p ← p − lr · g, where g is already
// the mini-batch mean. Every tensor of the model lives in this one buffer, so one dispatch updates them all.
// Shapes: params, grads [count] vec4s. The learning rate comes per step through a dynamic uniform offset,
// so several steps can share one submit.

struct Dims {
  count: u32,
}

struct Step {
  lr: f32,
  t: f32,
  slot: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> grads: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> params: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= dims.count) {
    return;
  }
  params[i] -= step.lr * grads[i];
}
