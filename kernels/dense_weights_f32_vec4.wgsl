// Weight quads for DenseProgram from a float32 [N, K] weight bound as array<vec4<f32>> (K % 4 == 0).
fn loadWeightQuad(n: i32, k: i32) -> vec4<f32> {
  if (k < uniforms.k) {
    return w[(n * uniforms.k + k) / 4];
  }
  return vec4<f32>(0.0);
}

fn outputScale(n: i32) -> f32 {
  return 1.0;
}
