// Entry point of matmul_wide.wgsl where the four invocations of a subgroup, which own the same rows of C, load
// each value of A once and share it by subgroupBroadcast: the 'subgroup' kernel. Side by side along a row, the
// four need the same A: per step of K each loads a quarter of it and receives the rest, so a step issues 20 loads
// instead of 32 (NT, NN), and a k of TN 5 instead of 8. That pays where a load costs far more than a broadcast:
// on SwiftShader, which runs four invocations in the lanes of one SIMD register and emulates every storage load
// with a run-time address as a per-lane gather.
// It assumes subgroups of exactly four invocations, consecutive in local_invocation_index, so that its workgroup
// of four is one subgroup: src/gpu/autotune.ts runs it only where shaders/subgroup_probe.wgsl has shown that.
// Neighbours always step along the columns (no stepping along rows for narrow N, which would give the lanes
// different rows of A).
enable subgroups;
// Invocations leave only as whole subgroups, which is all subgroupBroadcast needs; the workgroup-wide
// uniformity analysis cannot see that.
diagnostic(off, subgroup_uniformity);

// nt() of matmul_wide.wgsl with A shared: lane s loads rows s, s + 4, s + 8 and s + 12 of the block.
fn nt_shared(m0: u32, n0: u32, lane: u32) {
  let k4n = (dims.K + 3u) / 4u;
  let la = dims.arows - 1u;
  let lb = dims.brows - 1u;
  let ra0 = min(m0 + lane, la) * dims.lda;
  let ra1 = min(m0 + 4u + lane, la) * dims.lda;
  let ra2 = min(m0 + 8u + lane, la) * dims.lda;
  let ra3 = min(m0 + 12u + lane, la) * dims.lda;
  let rb0 = min(n0, lb) * dims.ldb;
  let rb1 = min(n0 + 1u, lb) * dims.ldb;
  let rb2 = min(n0 + 2u, lb) * dims.ldb;
  let rb3 = min(n0 + 3u, lb) * dims.ldb;
  let rb4 = min(n0 + 4u, lb) * dims.ldb;
  let rb5 = min(n0 + 5u, lb) * dims.ldb;
  let rb6 = min(n0 + 6u, lb) * dims.ldb;
  let rb7 = min(n0 + 7u, lb) * dims.ldb;
  let rb8 = min(n0 + 8u, lb) * dims.ldb;
  let rb9 = min(n0 + 9u, lb) * dims.ldb;
  let rb10 = min(n0 + 10u, lb) * dims.ldb;
  let rb11 = min(n0 + 11u, lb) * dims.ldb;
  let rb12 = min(n0 + 12u, lb) * dims.ldb;
  let rb13 = min(n0 + 13u, lb) * dims.ldb;
  let rb14 = min(n0 + 14u, lb) * dims.ldb;
  let rb15 = min(n0 + 15u, lb) * dims.ldb;
  for (var k = 0u; k < k4n; k++) {
    let p = Panel(
      b[rb0 + k],
      b[rb1 + k],
      b[rb2 + k],
      b[rb3 + k],
      b[rb4 + k],
      b[rb5 + k],
      b[rb6 + k],
      b[rb7 + k],
      b[rb8 + k],
      b[rb9 + k],
      b[rb10 + k],
      b[rb11 + k],
      b[rb12 + k],
      b[rb13 + k],
      b[rb14 + k],
      b[rb15 + k],
    );
    let x0 = a[ra0 + k];
    r0 = nt_row(r0, subgroupBroadcast(x0, 0u), p);
    r1 = nt_row(r1, subgroupBroadcast(x0, 1u), p);
    r2 = nt_row(r2, subgroupBroadcast(x0, 2u), p);
    r3 = nt_row(r3, subgroupBroadcast(x0, 3u), p);
    let x1 = a[ra1 + k];
    r4 = nt_row(r4, subgroupBroadcast(x1, 0u), p);
    r5 = nt_row(r5, subgroupBroadcast(x1, 1u), p);
    r6 = nt_row(r6, subgroupBroadcast(x1, 2u), p);
    r7 = nt_row(r7, subgroupBroadcast(x1, 3u), p);
    let x2 = a[ra2 + k];
    r8 = nt_row(r8, subgroupBroadcast(x2, 0u), p);
    r9 = nt_row(r9, subgroupBroadcast(x2, 1u), p);
    r10 = nt_row(r10, subgroupBroadcast(x2, 2u), p);
    r11 = nt_row(r11, subgroupBroadcast(x2, 3u), p);
    let x3 = a[ra3 + k];
    r12 = nt_row(r12, subgroupBroadcast(x3, 0u), p);
    r13 = nt_row(r13, subgroupBroadcast(x3, 1u), p);
    r14 = nt_row(r14, subgroupBroadcast(x3, 2u), p);
    r15 = nt_row(r15, subgroupBroadcast(x3, 3u), p);
  }
}

// nn() of matmul_wide.wgsl with A shared as in nt_shared.
fn nn_shared(m0: u32, col4: u32, lane: u32) {
  let k4n = (dims.K + 3u) / 4u;
  let la = dims.arows - 1u;
  let lb = dims.brows - 1u;
  let ra0 = min(m0 + lane, la) * dims.lda;
  let ra1 = min(m0 + 4u + lane, la) * dims.lda;
  let ra2 = min(m0 + 8u + lane, la) * dims.lda;
  let ra3 = min(m0 + 12u + lane, la) * dims.lda;
  let q0 = min(col4, dims.ldb - 1u);
  let q1 = min(col4 + 1u, dims.ldb - 1u);
  let q2 = min(col4 + 2u, dims.ldb - 1u);
  let q3 = min(col4 + 3u, dims.ldb - 1u);
  for (var k = 0u; k < k4n; k++) {
    let s0 = min(4u * k, lb) * dims.ldb;
    let s1 = min(4u * k + 1u, lb) * dims.ldb;
    let s2 = min(4u * k + 2u, lb) * dims.ldb;
    let s3 = min(4u * k + 3u, lb) * dims.ldb;
    let p = Panel(
      b[s0 + q0], b[s0 + q1], b[s0 + q2], b[s0 + q3],
      b[s1 + q0], b[s1 + q1], b[s1 + q2], b[s1 + q3],
      b[s2 + q0], b[s2 + q1], b[s2 + q2], b[s2 + q3],
      b[s3 + q0], b[s3 + q1], b[s3 + q2], b[s3 + q3],
    );
    let x0 = a[ra0 + k];
    r0 = nn_row(r0, subgroupBroadcast(x0, 0u), p);
    r1 = nn_row(r1, subgroupBroadcast(x0, 1u), p);
    r2 = nn_row(r2, subgroupBroadcast(x0, 2u), p);
    r3 = nn_row(r3, subgroupBroadcast(x0, 3u), p);
    let x1 = a[ra1 + k];
    r4 = nn_row(r4, subgroupBroadcast(x1, 0u), p);
    r5 = nn_row(r5, subgroupBroadcast(x1, 1u), p);
    r6 = nn_row(r6, subgroupBroadcast(x1, 2u), p);
    r7 = nn_row(r7, subgroupBroadcast(x1, 3u), p);
    let x2 = a[ra2 + k];
    r8 = nn_row(r8, subgroupBroadcast(x2, 0u), p);
    r9 = nn_row(r9, subgroupBroadcast(x2, 1u), p);
    r10 = nn_row(r10, subgroupBroadcast(x2, 2u), p);
    r11 = nn_row(r11, subgroupBroadcast(x2, 3u), p);
    let x3 = a[ra3 + k];
    r12 = nn_row(r12, subgroupBroadcast(x3, 0u), p);
    r13 = nn_row(r13, subgroupBroadcast(x3, 1u), p);
    r14 = nn_row(r14, subgroupBroadcast(x3, 2u), p);
    r15 = nn_row(r15, subgroupBroadcast(x3, 3u), p);
  }
}

// tn() of matmul_wide.wgsl with A shared: of the four vec4s a row k of A holds for the block, lane s loads the
// s-th. Returns the lane's sum over K of that vec4 (the bias gradient of its four rows) when BIAS_GRAD.
fn tn_shared(m0: u32, col4: u32, lane: u32) -> vec4<f32> {
  let p = min(m0 / 4u + lane, dims.lda - 1u);
  let q0 = min(col4, dims.ldb - 1u);
  let q1 = min(col4 + 1u, dims.ldb - 1u);
  let q2 = min(col4 + 2u, dims.ldb - 1u);
  let q3 = min(col4 + 3u, dims.ldb - 1u);
  let k4 = dims.K & ~3u;
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < k4; k += 4u) {
    let ra0 = (k + 0u) * dims.lda;
    let rb0 = (k + 0u) * dims.ldb;
    let x0 = a[ra0 + p];
    let y0 = Row(b[rb0 + q0], b[rb0 + q1], b[rb0 + q2], b[rb0 + q3]);
    let ra1 = (k + 1u) * dims.lda;
    let rb1 = (k + 1u) * dims.ldb;
    let x1 = a[ra1 + p];
    let y1 = Row(b[rb1 + q0], b[rb1 + q1], b[rb1 + q2], b[rb1 + q3]);
    let ra2 = (k + 2u) * dims.lda;
    let rb2 = (k + 2u) * dims.ldb;
    let x2 = a[ra2 + p];
    let y2 = Row(b[rb2 + q0], b[rb2 + q1], b[rb2 + q2], b[rb2 + q3]);
    let ra3 = (k + 3u) * dims.lda;
    let rb3 = (k + 3u) * dims.ldb;
    let x3 = a[ra3 + p];
    let y3 = Row(b[rb3 + q0], b[rb3 + q1], b[rb3 + q2], b[rb3 + q3]);
    if (BIAS_GRAD) {
      s += (x0 + x1) + (x2 + x3);
    }
    let x00 = subgroupBroadcast(x0, 0u);
    let x01 = subgroupBroadcast(x0, 1u);
    let x02 = subgroupBroadcast(x0, 2u);
    let x03 = subgroupBroadcast(x0, 3u);
    let x10 = subgroupBroadcast(x1, 0u);
    let x11 = subgroupBroadcast(x1, 1u);
    let x12 = subgroupBroadcast(x1, 2u);
    let x13 = subgroupBroadcast(x1, 3u);
    let x20 = subgroupBroadcast(x2, 0u);
    let x21 = subgroupBroadcast(x2, 1u);
    let x22 = subgroupBroadcast(x2, 2u);
    let x23 = subgroupBroadcast(x2, 3u);
    let x30 = subgroupBroadcast(x3, 0u);
    let x31 = subgroupBroadcast(x3, 1u);
    let x32 = subgroupBroadcast(x3, 2u);
    let x33 = subgroupBroadcast(x3, 3u);
    r0 = tn_row(tn_row(tn_row(tn_row(r0, x00.x, y0), x10.x, y1), x20.x, y2), x30.x, y3);
    r1 = tn_row(tn_row(tn_row(tn_row(r1, x00.y, y0), x10.y, y1), x20.y, y2), x30.y, y3);
    r2 = tn_row(tn_row(tn_row(tn_row(r2, x00.z, y0), x10.z, y1), x20.z, y2), x30.z, y3);
    r3 = tn_row(tn_row(tn_row(tn_row(r3, x00.w, y0), x10.w, y1), x20.w, y2), x30.w, y3);
    r4 = tn_row(tn_row(tn_row(tn_row(r4, x01.x, y0), x11.x, y1), x21.x, y2), x31.x, y3);
    r5 = tn_row(tn_row(tn_row(tn_row(r5, x01.y, y0), x11.y, y1), x21.y, y2), x31.y, y3);
    r6 = tn_row(tn_row(tn_row(tn_row(r6, x01.z, y0), x11.z, y1), x21.z, y2), x31.z, y3);
    r7 = tn_row(tn_row(tn_row(tn_row(r7, x01.w, y0), x11.w, y1), x21.w, y2), x31.w, y3);
    r8 = tn_row(tn_row(tn_row(tn_row(r8, x02.x, y0), x12.x, y1), x22.x, y2), x32.x, y3);
    r9 = tn_row(tn_row(tn_row(tn_row(r9, x02.y, y0), x12.y, y1), x22.y, y2), x32.y, y3);
    r10 = tn_row(tn_row(tn_row(tn_row(r10, x02.z, y0), x12.z, y1), x22.z, y2), x32.z, y3);
    r11 = tn_row(tn_row(tn_row(tn_row(r11, x02.w, y0), x12.w, y1), x22.w, y2), x32.w, y3);
    r12 = tn_row(tn_row(tn_row(tn_row(r12, x03.x, y0), x13.x, y1), x23.x, y2), x33.x, y3);
    r13 = tn_row(tn_row(tn_row(tn_row(r13, x03.y, y0), x13.y, y1), x23.y, y2), x33.y, y3);
    r14 = tn_row(tn_row(tn_row(tn_row(r14, x03.z, y0), x13.z, y1), x23.z, y2), x33.z, y3);
    r15 = tn_row(tn_row(tn_row(tn_row(r15, x03.w, y0), x13.w, y1), x23.w, y2), x33.w, y3);
  }
  for (var k = k4; k < dims.K; k++) {
    let ra = k * dims.lda;
    let rb = k * dims.ldb;
    let x = a[ra + p];
    let y = Row(b[rb + q0], b[rb + q1], b[rb + q2], b[rb + q3]);
    if (BIAS_GRAD) {
      s += x;
    }
    let x0 = subgroupBroadcast(x, 0u);
    let x1 = subgroupBroadcast(x, 1u);
    let x2 = subgroupBroadcast(x, 2u);
    let x3 = subgroupBroadcast(x, 3u);
    r0 = tn_row(r0, x0.x, y);
    r1 = tn_row(r1, x0.y, y);
    r2 = tn_row(r2, x0.z, y);
    r3 = tn_row(r3, x0.w, y);
    r4 = tn_row(r4, x1.x, y);
    r5 = tn_row(r5, x1.y, y);
    r6 = tn_row(r6, x1.z, y);
    r7 = tn_row(r7, x1.w, y);
    r8 = tn_row(r8, x2.x, y);
    r9 = tn_row(r9, x2.y, y);
    r10 = tn_row(r10, x2.z, y);
    r11 = tn_row(r11, x2.w, y);
    r12 = tn_row(r12, x3.x, y);
    r13 = tn_row(r13, x3.y, y);
    r14 = tn_row(r14, x3.z, y);
    r15 = tn_row(r15, x3.w, y);
  }
  return s;
}

// A workgroup is one subgroup: four invocations side by side, 16 rows x 64 columns of C. Small workgroups give
// SwiftShader many to spread over its threads when C is small: at batch 64 the 128 x 128 tile of the other
// wide kernel left two workgroups for the whole first layer, half their invocations idle.
@compute @workgroup_size(4)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let m0 = wid.y * 16u;
  let col4 = (wid.x * 4u + li) * 4u;
  // A subgroup past C leaves whole. A lane past C in a subgroup that stays computes on clamped loads, to take
  // part in the broadcasts, and stores nothing (store() checks bounds).
  if (subgroupAll(m0 >= dims.M || 4u * col4 >= dims.N)) {
    return;
  }
  switch FORM {
    case 1u: { nn_shared(m0, col4, lane); }
    case 2u: {
      let s = tn_shared(m0, col4, lane);
      // The subgroup at column block 0 holds the bias gradient of its sixteen rows, a vec4 per lane.
      if (BIAS_GRAD && wid.x == 0u) {
        store_bias_grad(m0 / 4u + lane, s);
      }
    }
    default: { nt_shared(m0, 4u * col4, lane); }
  }
  store_block(m0, col4);
}
