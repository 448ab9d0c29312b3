// Activation functions, prepended to every kernel that applies one (matmul epilogues, loss, activation).
// ACT picks the function; the pipeline's override constant makes the switch fold away.
//   0 identity, 1 relu, 2 leaky_relu (slope 0.01), 3 sigmoid, 4 tanh, 5 gelu (tanh approximation),
//   6 softplus, 7 elu (alpha 1), 8 silu. 9 softmax is not coordinatewise: its forward and backward are
//   row kernels (softmax.wgsl, softmax_backward.wgsl), and coordinatewise code treats it as identity.
// Derivatives at a kink follow PyTorch: relu'(0) = 0, leaky_relu'(0) = 0.01.

override ACT: u32 = 0u;

const GELU_C: f32 = 0.7978845608028654; // sqrt(2 / pi)

fn sigmoid(x: f32) -> f32 {
  // exp of a non-positive argument cannot overflow, whatever the sign of x.
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

fn tanh_safe(x: f32) -> f32 {
  // Some backends evaluate tanh through exp(2x) and return NaN for large |x|; f32 tanh is +-1 past 10.
  return tanh(clamp(x, -10.0, 10.0));
}

fn act(x: f32) -> f32 {
  switch ACT {
    case 1u: { return max(x, 0.0); }
    case 2u: { return select(0.01 * x, x, x > 0.0); }
    case 3u: { return sigmoid(x); }
    case 4u: { return tanh_safe(x); }
    case 5u: { return 0.5 * x * (1.0 + tanh_safe(GELU_C * (x + 0.044715 * x * x * x))); }
    case 6u: { return max(x, 0.0) + log(1.0 + exp(-abs(x))); }
    case 7u: { return select(exp(min(x, 0.0)) - 1.0, x, x > 0.0); }
    case 8u: { return x * sigmoid(x); }
    default: { return x; }
  }
}

// d act / dx, evaluated at the pre-activation x.
fn dact(x: f32) -> f32 {
  switch ACT {
    case 1u: { return select(0.0, 1.0, x > 0.0); }
    case 2u: { return select(0.01, 1.0, x > 0.0); }
    case 3u: { let s = sigmoid(x); return s * (1.0 - s); }
    case 4u: { let t = tanh_safe(x); return 1.0 - t * t; }
    case 5u: {
      let t = tanh_safe(GELU_C * (x + 0.044715 * x * x * x));
      return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * 0.044715 * x * x);
    }
    case 6u: { return sigmoid(x); }
    case 7u: { return select(exp(min(x, 0.0)), 1.0, x > 0.0); }
    case 8u: { let s = sigmoid(x); return s * (1.0 + x * (1.0 - s)); }
    default: { return 1.0; }
  }
}

fn act4(v: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(act(v.x), act(v.y), act(v.z), act(v.w));
}

fn dact4(v: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(dact(v.x), dact(v.y), dact(v.z), dact(v.w));
}
