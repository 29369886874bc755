// Weight decoder, int8 per row: `w` is [rows, ceil(cols/4)] int32 words, byte b of word j of a
// row holding q[row, 4j+b] (two's complement, zero padded; src/codec/gpu_words.ts), `scales` the
// row scales: W[row, col] = q[row, col] · scales[row]. Same functions as weights_f32.wgsl; the
// dense program applies weightScale once per output in its epilogue.
fn weightQuad(row: i32, col: i32, cols: i32) -> vec4<f32> {
  let word = w[row * ((cols + 3) / 4) + col / 4];
  return vec4<f32>(
    f32((word << 24u) >> 24u),
    f32((word << 16u) >> 24u),
    f32((word << 8u) >> 24u),
    f32(word >> 24u));
}

fn weightScale(row: i32) -> f32 {
  return scales[row];
}
