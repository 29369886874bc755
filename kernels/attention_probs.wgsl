// Attention probabilities softmax(q·kᵀ·scale + mask) as [B, heads, Lq, Lk], one thread per query
// row. Only run when a caller asks for the probabilities (outputAttentions); the fused context
// kernel (attention.wgsl) never materialises them.
//
// Prepended by AttentionProbsProgram (attention_probs_webgpu.ts): const HEAD_DIM: i32; the
// accessors of attention_webgpu.ts (qAt, kAt, maskAt). Of a grouped call, group 0's
// probabilities (the language → vision direction of cross-attention).

const NEG_MAX = -3.4028234e+38;

fn score(b: i32, i: i32, h: i32, j: i32) -> f32 {
  var s = 0.0;
  for (var d = 0; d < HEAD_DIM; d++) {
    s += (qAt(0, b, i, h * HEAD_DIM + d) * uniforms.scale) * kAt(0, b, j, h * HEAD_DIM + d);
  }
  return s + maskAt(0, b, j);
}

fn main(index: i32) {
  let nh = uniforms.numHeads;
  let lq = uniforms.lq;
  let lk = uniforms.lk;
  if (index >= uniforms.batch * nh * lq) {
    return;
  }
  let i = index % lq;
  let h = (index / lq) % nh;
  let b = index / (lq * nh);
  var mx = NEG_MAX;
  for (var j = 0; j < lk; j++) {
    mx = max(mx, score(b, i, h, j));
  }
  var sum = 0.0;
  for (var j = 0; j < lk; j++) {
    sum += exp(score(b, i, h, j) - mx);
  }
  for (var j = 0; j < lk; j++) {
    result[index * lk + j] = exp(score(b, i, h, j) - mx) / sum;
  }
}
