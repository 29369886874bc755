// Rows of an embedding table by id, decoded to float32: out[i, h] = W[ids[i], h] · scale, the
// table `w` read through the weight decoder of its storage format (float32, packed float16
// pairs, packed int8 with per-row scales). One invocation per output element. Lets
// word/position/token-type embeddings stay 16- or 8-bit on the GPU (the VQA path reads 20 rows
// of a 30522-row table).
//
// Prepended by GatherRowsProgram (gather_rows_webgpu.ts): fn weightQuad, fn weightScale (the
// weight decoder, weights_*.wgsl).

fn main(flat: i32) {
  // flat = the global invocation index (the program's dispatch layout is flat)
  if (flat >= uniforms.rows * uniforms.width) {
    return;
  }
  let i = flat / uniforms.width;
  let h = flat - i * uniforms.width;
  let row = ids[i];
  let quad = weightQuad(row, h - h % 4, uniforms.width);
  setOutputAtIndex(flat, quad[h % 4] * weightScale(row));
}
