// gather: draws a mini-batch from a dataset that lives on the GPU, by index, so no batch crosses the bus.
//   x[r, c] = scale · data_x[idx[start + r], c]   for r < rows, c < inp; pad columns c in [inp, ldx) = 0
//   y[r, c] = data_y[idx[start + r], c]           (targets), or y[r] = data_y[idx[start + r]] (class indices)
// Shapes: idx [n_idx] u32; data_x [n, inp] f32 bits, or bytes packed four to a u32 (BYTES, e.g. pixels with
// scale 1/255); data_y [n, out] f32 bits or [n] u32; x [rows, ldx], y [rows, ldy] (ld in floats, multiples of 4).
// start comes per step, through the dynamic step uniform, so one bind group serves a whole epoch.
// One invocation per four consecutive columns of x (and of y), 2-D grid over rows · max(ldx, ldy) / 4: the row's
// index is read and the division done once per four values, and when a byte row starts on a word boundary
// (inp a multiple of 4) the four bytes come from one load.

struct Dims {
  rows: u32,
  inp: u32,
  ldx: u32,
  out: u32,
  ldy: u32,
  scale: f32,
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

// Target c of the source row `src` (f32 bits copied as they are); 0 in the pad columns.
fn target_value(src: u32, c: u32) -> u32 {
  return select(0u, data_y[src * dims.out + c], c < dims.out);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  let qx = dims.ldx / 4u;
  if (i < dims.rows * qx) {
    let r = i / qx;
    let c = 4u * (i - r * qx);
    let e = idx[step.start + r] * dims.inp;
    if (BYTES && dims.inp % 4u == 0u && c + 4u <= dims.inp) {
      let w = data_x[(e + c) / 4u];
      x[i] = vec4<f32>(vec4<u32>(w, w >> 8u, w >> 16u, w >> 24u) & vec4<u32>(0xffu)) * dims.scale;
    } else {
      x[i] = vec4<f32>(value(e, c), value(e, c + 1u), value(e, c + 2u), value(e, c + 3u));
    }
  }
  if (Y_INDICES) {
    if (i < dims.rows) {
      y[i] = data_y[idx[step.start + i]];
    }
    return;
  }
  let qy = dims.ldy / 4u;
  if (i < dims.rows * qy) {
    let r = i / qy;
    let c = 4u * (i - r * qy);
    let src = idx[step.start + r];
    y[4u * i] = target_value(src, c);
    y[4u * i + 1u] = target_value(src, c + 1u);
    y[4u * i + 2u] = target_value(src, c + 2u);
    y[4u * i + 3u] = target_value(src, c + 3u);
  }
}
