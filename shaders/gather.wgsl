// gather: draws a mini-batch from a dataset that lives on the GPU, by index, so no batch crosses the bus.
//   x[r, c] = scale · data_x[idx[start + r], c]   for r < rows, c < inp; pad columns c in [inp, ldx) = 0
//   y[r, c] = data_y[idx[start + r], c]           (targets), or y[r] = data_y[idx[start + r]] (class indices)
// Shapes: idx [n_idx] u32; data_x [n, inp] f32 bits, or bytes packed four to a u32 (BYTES, e.g. pixels with
// scale 1/255); data_y [n, out] f32 bits or [n] u32; x [rows, ldx], y [rows, ldy] (ld in floats, multiples of 4).
// start comes per step, through the dynamic step uniform, so one bind group serves a whole epoch.
// 2^shift invocations per row (2-D grid over rows << shift), each stepping along the row's vec4s of x and y by
// 2^shift: the row's index is read once per invocation and no invocation divides. A CPU implementation runs the
// lanes of an invocation group in SIMD and emulates integer division and divergent branches lane by lane, so
// one invocation per vec4 with a division each cost about five times as much (SwiftShader). Whole vec4s inside
// the row take the branch-free path; when a byte row starts on a word boundary (inp a multiple of 4) their four
// bytes come from one load.

struct Dims {
  rows: u32,
  inp: u32,
  ldx: u32,
  out: u32,
  ldy: u32,
  scale: f32,
  shift: u32,
}

override BYTES: bool = false;
override Y_INDICES: bool = false;

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read> data_x: array<u32>;
@group(0) @binding(4) var<storage, read> data_y: array<u32>;
@group(0) @binding(5) var<storage, read_write> x: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> y: array<u32>;

// Value c of the source row starting at element e, scaled; 0 in the pad columns.
fn value(e: u32, c: u32) -> f32 {
  if (c >= dims.inp) {
    return 0.0;
  }
  if (BYTES) {
    let k = e + c;
    return f32((data_x[k / 4u] >> (8u * (k % 4u))) & 0xffu) * dims.scale;
  }
  return bitcast<f32>(data_x[e + c]) * dims.scale;
}

// Four values of x from column c (c + 4 <= inp): no pad column among them.
fn whole(e: u32, c: u32) -> vec4<f32> {
  if (BYTES) {
    if (dims.inp % 4u == 0u) {
      let w = data_x[(e + c) / 4u];
      return vec4<f32>(vec4<u32>(w, w >> 8u, w >> 16u, w >> 24u) & vec4<u32>(0xffu)) * dims.scale;
    }
    return vec4<f32>(value(e, c), value(e, c + 1u), value(e, c + 2u), value(e, c + 3u));
  }
  let k = e + c;
  return vec4<f32>(
    bitcast<f32>(data_x[k]),
    bitcast<f32>(data_x[k + 1u]),
    bitcast<f32>(data_x[k + 2u]),
    bitcast<f32>(data_x[k + 3u]),
  ) * dims.scale;
}

// Target c of the source row `src` (f32 bits copied as they are); 0 in the pad columns.
fn target_value(src: u32, c: u32) -> u32 {
  return select(0u, data_y[src * dims.out + c], c < dims.out);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  let r = i >> dims.shift;
  if (r >= dims.rows) {
    return;
  }
  let lanes = 1u << dims.shift;
  let q0 = i & (lanes - 1u);
  let src = idx[step.start + r];
  let e = src * dims.inp;
  let qx = dims.ldx / 4u;
  let full = dims.inp / 4u;
  var q = q0;
  for (; q < full; q += lanes) {
    x[r * qx + q] = whole(e, 4u * q);
  }
  for (; q < qx; q += lanes) {
    let c = 4u * q;
    x[r * qx + q] = vec4<f32>(value(e, c), value(e, c + 1u), value(e, c + 2u), value(e, c + 3u));
  }
  if (Y_INDICES) {
    if (q0 == 0u) {
      y[r] = data_y[src];
    }
    return;
  }
  let qy = dims.ldy / 4u;
  for (var p = q0; p < qy; p += lanes) {
    let c = 4u * p;
    let at = 4u * (r * qy + p);
    y[at] = target_value(src, c);
    y[at + 1u] = target_value(src, c + 1u);
    y[at + 2u] = target_value(src, c + 2u);
    y[at + 3u] = target_value(src, c + 3u);
  }
}
