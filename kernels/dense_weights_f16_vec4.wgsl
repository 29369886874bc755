// Weight quads for DenseProgram from float16 pairs packed in int32 words (see dense_weights_f16),
// bound as array<vec2<i32>> when K % 4 == 0: one load brings four halves.
fn loadWeightQuad(n: i32, k: i32) -> vec4<f32> {
  if (k < uniforms.k) {
    let p = w[(n * uniforms.k + k) / 4];
    return vec4<f32>(unpack2x16float(bitcast<u32>(p.x)), unpack2x16float(bitcast<u32>(p.y)));
  }
  return vec4<f32>(0.0);
}

fn outputScale(n: i32) -> f32 {
  return 1.0;
}
