// sgd: stochastic gradient descent over the flat parameter buffer, with PyTorch's semantics:
//   g ← clip·g + weight_decay·p;  buf ← momentum·buf + g;  p ← p − lr·(NESTEROV ? g + momentum·buf : buf)
// (without MOMENTUM: p ← p − lr·g). g is already the mini-batch mean. Every tensor of the model lives in this
// one buffer, so one dispatch updates them all; pads and alignment gaps hold zeros and stay zero.
// clip = min(1, max_norm / (‖g‖ + 1e-6)) from grad_norm.wgsl's sum of squares when CLIP, else 1.
// Shapes: params, grads, velocity [count] vec4s; norm [1]. lr comes per step through a dynamic uniform offset,
// so several steps can share one submit.

struct Dims {
  count: u32,
  momentum: f32,
  weight_decay: f32,
  max_norm: f32,
}

override MOMENTUM: bool = false;
override NESTEROV: bool = false;
override CLIP: bool = false;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> grads: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> params: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> velocity: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> norm: array<f32>;

// The update of vec4 i.
fn update(i: u32) {
  var g = grads[i];
  if (CLIP) {
    g *= min(1.0, dims.max_norm / (sqrt(norm[0]) + 1e-6));
  }
  let p = params[i];
  g += dims.weight_decay * p;
  if (MOMENTUM) {
    let buf = dims.momentum * velocity[i] + g;
    velocity[i] = buf;
    g = select(buf, g + dims.momentum * buf, NESTEROV);
  }
  params[i] = p - step.lr * g;
}
