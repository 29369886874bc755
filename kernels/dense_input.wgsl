// x quads for the dense programs from a float32 [M, K] input read as scalars (any K).
fn loadInputQuad(m: i32, k: i32) -> vec4<f32> {
  var r = vec4<f32>(0.0);
  if (m < uniforms.m) {
    let base = m * uniforms.k + k;
    let rest = uniforms.k - k;
    if (rest >= 4) {
      r = vec4<f32>(x[base], x[base + 1], x[base + 2], x[base + 3]);
    } else {
      if (rest > 0) { r.x = x[base]; }
      if (rest > 1) { r.y = x[base + 1]; }
      if (rest > 2) { r.z = x[base + 2]; }
    }
  }
  return r;
}
