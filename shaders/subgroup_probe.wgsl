// subgroup_probe: how a 64-invocation workgroup is cut into subgroups. out[li] = lane + 256 * subgroup size, for
// src/gpu/autotune.ts to check what matmul_wide_subgroup.wgsl assumes: subgroups of four, lane = li % 4.
enable subgroups;

struct Dims {
  n: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(64)
fn main(
  @builtin(local_invocation_index) li: u32,
  @builtin(subgroup_invocation_id) lane: u32,
  @builtin(subgroup_size) size: u32,
) {
  if (li < dims.n) {
    out[li] = lane + 256u * size;
  }
}
