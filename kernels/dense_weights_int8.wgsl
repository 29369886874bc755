// Weight quads for DenseProgram from int8 values packed four to an int32 word: w is
// [N, ceil(K/4)], byte b of word j of row n holds q[n, 4j+b] (two's complement, zero padded);
// W[n, k] = q[n, k] · scales[n], the scale applied once per output in the epilogue.
fn loadWeightQuad(n: i32, k: i32) -> vec4<f32> {
  let word = w[n * ((uniforms.k + 3) / 4) + k / 4];
  return vec4<f32>(
    f32((word << 24u) >> 24u),
    f32((word << 16u) >> 24u),
    f32((word << 8u) >> 24u),
    f32(word >> 24u));
}

fn outputScale(n: i32) -> f32 {
  return scales[n];
}
