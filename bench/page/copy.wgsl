// Storage-to-storage copy, one vec4f (16 bytes) per invocation and step; a grid-stride loop covers
// buffers with more elements than one dispatch has invocations.

@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = arrayLength(&dst);
  let stride = groups.x * 256u;
  for (var i = gid.x; i < n; i += stride) {
    dst[i] = src[i];
  }
}
