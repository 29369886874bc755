// Weight decoder, float32: `w` is a row-major [rows, cols] float32 array. Shared by the dense
// and gather-rows programs (weight_decoders.ts prepends one decoder per format).
// weightQuad: values [col, col + 4) of row `row` (col a multiple of 4), zero past the row's end;
// weightScale: the factor every value of the row is multiplied by.
fn weightQuad(row: i32, col: i32, cols: i32) -> vec4<f32> {
  let base = row * cols + col;
  let rest = cols - col;
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

fn weightScale(row: i32) -> f32 {
  return 1.0;
}
