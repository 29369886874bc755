// Weight decoder, float16: `w` is [rows, ceil(cols/2)] int32 words, word j of a row holding
// element 2j in its low half and 2j+1 in its high half (zero padded; src/codec/gpu_words.ts).
// unpack2x16float needs no device feature. Same functions as weights_f32.wgsl.
fn weightQuad(row: i32, col: i32, cols: i32) -> vec4<f32> {
  let words = (cols + 1) / 2;
  let j = col / 2;
  let base = row * words + j;
  let lo = unpack2x16float(bitcast<u32>(w[base]));
  var hi = vec2<f32>(0.0);
  if (j + 1 < words) {
    hi = unpack2x16float(bitcast<u32>(w[base + 1]));
  }
  return vec4<f32>(lo, hi);
}

fn weightScale(row: i32) -> f32 {
  return 1.0;
}
