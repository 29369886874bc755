// Weight decoder, float32 bound as array<vec4<f32>> (cols % 4 == 0): one load a quad. Same
// functions as weights_f32.wgsl.
fn weightQuad(row: i32, col: i32, cols: i32) -> vec4<f32> {
  if (col < cols) {
    return w[(row * cols + col) / 4];
  }
  return vec4<f32>(0.0);
}

fn weightScale(row: i32) -> f32 {
  return 1.0;
}
