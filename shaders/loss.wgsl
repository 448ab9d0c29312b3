// loss: per-row loss and its gradient with respect to the last pre-activation, the batch mean folded in.
//   LOSS 0 cross_entropy, probability targets  y [M, ld]:  ℓ = Σ_n y_n (lse(z) − z_n),  dz = (s·Σy − y)·scale
//   LOSS 1 cross_entropy, class indices        y [M] u32:  ℓ = lse(z) − z_y,            dz = (s − onehot)·scale
//   LOSS 2 mse on the activated output out = act(Z):    ℓ = Σ_n (out − y)²,  dz = 2(out − y)·scale ⊙ act'(Z)
//   LOSS 3 binary_cross_entropy, sigmoid fused:         ℓ = Σ_n max(z,0) − z·y + log(1 + e^−|z|),
//                                                        dz = (sigmoid(z) − y)·scale
// scale is 1/B for cross-entropy and 1/(B·N) for the element means, B the whole batch (micro-batches share it).
// Beside each row's loss goes its accuracy in [0, 1], for training curves and evaluate(): the argmax matches the
// label (cross-entropy; mse with N > 1 against argmax y), the fraction of elements on the right side of 0.5
// (binary_cross_entropy), or |out − y| < 0.5 (mse with one output).
// For mse with a softmax last layer this writes dL/dA and softmax_backward.wgsl finishes the job.
// Shapes: out, aux (Z, mse only), dz [M, ld] row-major, ld in floats; row_loss [M] (loss, accuracy) pairs.
// One invocation per row.
// Needs activations.wgsl prepended (ACT is the last layer's activation).

struct Dims {
  M: u32,
  N: u32,
  ld: u32,
  scale: f32,
}

override LOSS: u32 = 0u;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> out: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> aux: array<f32>;
@group(0) @binding(4) var<storage, read_write> dz: array<f32>;
@group(0) @binding(5) var<storage, read_write> row_loss: array<vec2<f32>>;

fn argmax_out(row: u32) -> u32 {
  var best = 0u;
  for (var n = 1u; n < dims.N; n++) {
    if (out[row + n] > out[row + best]) {
      best = n;
    }
  }
  return best;
}

fn argmax_y(row: u32) -> u32 {
  var best = 0u;
  for (var n = 1u; n < dims.N; n++) {
    if (y[row + n] > y[row + best]) {
      best = n;
    }
  }
  return best;
}

fn hit(m: u32, row: u32) -> f32 {
  switch LOSS {
    case 1u: { return select(0.0, 1.0, argmax_out(row) == bitcast<u32>(y[m])); }
    case 3u: {
      var right = 0.0;
      for (var n = 0u; n < dims.N; n++) {
        right += select(0.0, 1.0, (out[row + n] > 0.0) == (y[row + n] > 0.5));
      }
      return right / f32(dims.N);
    }
    default: {
      if (dims.N == 1u) {
        return select(0.0, 1.0, abs(out[row] - y[row]) < 0.5);
      }
      return select(0.0, 1.0, argmax_out(row) == argmax_y(row));
    }
  }
}

fn cross_entropy(m: u32, row: u32) -> f32 {
  var mx = out[row];
  for (var n = 1u; n < dims.N; n++) {
    mx = max(mx, out[row + n]);
  }
  var sum = 0.0;
  for (var n = 0u; n < dims.N; n++) {
    sum += exp(out[row + n] - mx);
  }
  let lse = mx + log(sum);
  if (LOSS == 1u) {
    let label = bitcast<u32>(y[m]);
    for (var n = 0u; n < dims.N; n++) {
      let p = exp(out[row + n] - lse);
      dz[row + n] = (p - select(0.0, 1.0, n == label)) * dims.scale;
    }
    return lse - out[row + min(label, dims.N - 1u)];
  }
  var loss = 0.0;
  var ysum = 0.0;
  for (var n = 0u; n < dims.N; n++) {
    loss += y[row + n] * (lse - out[row + n]);
    ysum += y[row + n];
  }
  for (var n = 0u; n < dims.N; n++) {
    dz[row + n] = (exp(out[row + n] - lse) * ysum - y[row + n]) * dims.scale;
  }
  return loss;
}

fn mse(row: u32) -> f32 {
  var loss = 0.0;
  for (var n = 0u; n < dims.N; n++) {
    let diff = out[row + n] - y[row + n];
    loss += diff * diff;
    var g = 2.0 * diff * dims.scale;
    if (ACT != 0u && ACT != 9u) {
      g *= dact(aux[row + n]);
    }
    dz[row + n] = g;
  }
  return loss;
}

fn binary_cross_entropy(row: u32) -> f32 {
  var loss = 0.0;
  for (var n = 0u; n < dims.N; n++) {
    let z = out[row + n];
    let t = y[row + n];
    loss += max(z, 0.0) - z * t + log(1.0 + exp(-abs(z)));
    dz[row + n] = (sigmoid(z) - t) * dims.scale;
  }
  return loss;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let m = gid.x + gid.y * nwg.x * 64u;
  if (m >= dims.M) {
    return;
  }
  let row = m * dims.ld;
  var loss: f32;
  switch LOSS {
    case 2u: { loss = mse(row); }
    case 3u: { loss = binary_cross_entropy(row); }
    default: { loss = cross_entropy(m, row); }
  }
  row_loss[m] = vec2<f32>(loss, hit(m, row));
}
