// Entry point of matmul_wide.wgsl, each invocation loading the values of A and B it needs: the 'wide' kernel.

// The block of C an invocation owns, as (first row, first vec4 column). As in matmul.wgsl, neighbours step along
// the columns, or along the rows when N spans at most three blocks.
fn block(wid: vec2<u32>, li: u32) -> vec2<u32> {
  let along_rows = dims.N <= 48u && dims.M > dims.N;
  let i = select(li / 8u, li % 8u, along_rows);
  let j = select(li % 8u, li / 8u, along_rows);
  return vec2<u32>((wid.y * 8u + i) * 16u, (wid.x * 8u + j) * 4u);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let at = block(wid.xy, li);
  if (at.x >= dims.M || 4u * at.y >= dims.N) {
    return;
  }
  product(at.x, at.y);
  store_block(at.x, at.y);
}
