// Weight quads for DenseProgram from float16 pairs packed in int32 words: w is [N, ceil(K/2)],
// word j of row n holds W[n, 2j] in its low half and W[n, 2j+1] in its high half (zero padded).
// unpack2x16float needs no device feature.
fn loadWeightQuad(n: i32, k: i32) -> vec4<f32> {
  let words = (uniforms.k + 1) / 2;
  let j = k / 2;
  let base = n * words + j;
  let lo = unpack2x16float(bitcast<u32>(w[base]));
  var hi = vec2<f32>(0.0);
  if (j + 1 < words) {
    hi = unpack2x16float(bitcast<u32>(w[base + 1]));
  }
  return vec4<f32>(lo, hi);
}

fn outputScale(n: i32) -> f32 {
  return 1.0;
}
