// adam / adamw over the flat parameter buffer, with PyTorch's semantics (t counts from 1):
//   g ← clip·g (+ weight_decay·p for adam, an L2 term);  adamw first decays p ← p − lr·weight_decay·p
//   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  p ← p − lr·(m / (1 − β1^t)) / (√(v / (1 − β2^t)) + eps)
// clip = min(1, max_norm / (‖g‖ + 1e-6)) from grad_norm.wgsl's sum of squares when CLIP, else 1.
// Shapes: params, grads, m, v [count] vec4s; norm [1]. lr and t come per step through a dynamic uniform offset.

struct Dims {
  count: u32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weight_decay: f32,
  max_norm: f32,
}

override DECOUPLED: bool = false;
override CLIP: bool = false;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> grads: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> params: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> m: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> v: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> norm: array<f32>;

// The update of vec4 i.
fn update(i: u32) {
  var g = grads[i];
  if (CLIP) {
    g *= min(1.0, dims.max_norm / (sqrt(norm[0]) + 1e-6));
  }
  var p = params[i];
  if (DECOUPLED) {
    p -= step.lr * dims.weight_decay * p;
  } else {
    g += dims.weight_decay * p;
  }
  let mi = dims.beta1 * m[i] + (1.0 - dims.beta1) * g;
  let vi = dims.beta2 * v[i] + (1.0 - dims.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let mhat = mi / (1.0 - pow(dims.beta1, step.t));
  let vhat = vi / (1.0 - pow(dims.beta2, step.t));
  params[i] = p - step.lr * mhat / (sqrt(vhat) + dims.eps);
}
