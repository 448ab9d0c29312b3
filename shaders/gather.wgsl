// gather: draws a mini-batch from a dataset that lives on the GPU, by index, so no batch crosses the bus.
//   x[r, c] = scale · data_x[idx[start + r], c]   for r < rows, c < inp; pad columns c in [inp, ldx) = 0
//   y[r, c] = data_y[idx[start + r], c]           (targets), or y[r] = data_y[idx[start + r]] (class indices)
// Shapes: idx [n_idx] u32; data_x [n, inp] f32 bits, or bytes packed four to a u32 (BYTES, e.g. pixels with
// scale 1/255); data_y [n, out] f32 bits or [n] u32; x [rows, ldx], y [rows, ldy] (ld in floats).
// start comes per step, through the dynamic step uniform, so one bind group serves a whole epoch.
// One invocation per element of the larger of x and y, 2-D grid.

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
@group(0) @binding(5) var<storage, read_write> x: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i < dims.rows * dims.ldx) {
    let r = i / dims.ldx;
    let c = i % dims.ldx;
    var v = 0.0;
    if (c < dims.inp) {
      let e = idx[step.start + r] * dims.inp + c;
      if (BYTES) {
        v = f32((data_x[e / 4u] >> (8u * (e % 4u))) & 0xffu) * dims.scale;
      } else {
        v = bitcast<f32>(data_x[e]) * dims.scale;
      }
    }
    x[i] = v;
  }
  if (Y_INDICES) {
    if (i < dims.rows) {
      y[i] = data_y[idx[step.start + i]];
    }
  } else if (i < dims.rows * dims.ldy) {
    let r = i / dims.ldy;
    let c = i % dims.ldy;
    y[i] = select(0u, data_y[idx[step.start + r] * dims.out + c], c < dims.out);
  }
}
