// Peak FMA throughput: every invocation runs CHAINS independent vec4 FMA chains in registers.
// The host replaces the /*...*/ markers (declarations, unrolled body, sum) before compiling, so that
// the FLOP count and the code come from the same constants. Nothing is read from memory in the loop;
// a single store, under a condition that never holds, keeps the compiler from removing the work.

struct Params {
  iters: u32,   // loop trips; each trip runs UNROLL rounds of CHAINS vec4 FMAs
  magic: f32,   // never equal to the result
  b: f32,       // multiplier, close to 1 so the chains neither overflow nor vanish
  c: f32,       // addend
}

override WORKGROUP_SIZE: u32 = 256;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> sink: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let seed = f32(gid.x & 1023u) * 0.0009765625;
  let b = vec4f(params.b);
  let c = vec4f(params.c);
  /*DECLS*/
  for (var i = 0u; i < params.iters; i++) {
    /*BODY*/
  }
  let s = /*SUM*/;
  if (s.x + s.y + s.z + s.w == params.magic) {
    sink[0] = s.x;
  }
}
