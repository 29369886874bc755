// Weight decoder, float16 pairs (see weights_f16.wgsl) bound as array<vec2<i32>> when
// cols % 4 == 0: one load brings four halves. Same functions as weights_f32.wgsl.
fn weightQuad(row: i32, col: i32, cols: i32) -> vec4<f32> {
  if (col < cols) {
    let p = w[(row * cols + col) / 4];
    return vec4<f32>(unpack2x16float(bitcast<u32>(p.x)), unpack2x16float(bitcast<u32>(p.y)));
  }
  return vec4<f32>(0.0);
}

fn weightScale(row: i32) -> f32 {
  return 1.0;
}
