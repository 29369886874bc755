// x quads for the dense programs when K % 4 == 0: x is bound as array<vec4<f32>>, one load each.
fn loadInputQuad(m: i32, k: i32) -> vec4<f32> {
  if (m < uniforms.m && k < uniforms.k) {
    return x[(m * uniforms.k + k) / 4];
  }
  return vec4<f32>(0.0);
}
