// update_main: the entry point of sgd.wgsl and adam.wgsl, appended after either, which defines dims.count (vec4s
// in the flat parameter buffer) and update(i) (the update of vec4 i). Each invocation strides through the buffer
// by the grid's size: the host sizes the grid for several vec4s per invocation (src/nn/optimizers.ts), since on
// CPU implementations an invocation costs more than a loop step.
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * nwg.y * 64u;
  for (var i = gid.x + gid.y * nwg.x * 64u; i < dims.count; i += stride) {
    update(i);
  }
}
