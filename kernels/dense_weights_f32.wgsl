// Weight quads for DenseProgram from a float32 [N, K] weight.
fn loadWeightQuad(n: i32, k: i32) -> vec4<f32> {
  let base = n * uniforms.k + k;
  let rest = uniforms.k - k;
  var r = vec4<f32>(0.0);
  if (rest >= 4) {
    r = vec4<f32>(w[base], w[base + 1], w[base + 2], w[base + 3]);
  } else {
    if (rest > 0) { r.x = w[base]; }
    if (rest > 1) { r.y = w[base + 1]; }
    if (rest > 2) { r.z = w[base + 2]; }
  }
  return r;
}

fn outputScale(n: i32) -> f32 {
  return 1.0;
}
